import type { Metadata } from '@grpc/grpc-js';
import type { EventEmitter } from 'node:events';
import type { AuthIdentity } from '../auth/auth-gate';
import type { RequestContext } from './member-port';

/** The part of a grpc-js server call a RequestContext is built from. */
export interface CallSurface extends EventEmitter {
  readonly metadata: Metadata;
  readonly cancelled: boolean;
}

/** `hasleader: true` (etcdctl on watch and keepalive streams): fail fast without a leader. */
export function requiresLeader(metadata: Metadata): boolean {
  const values = metadata.get('hasleader');
  return values.length > 0 && String(values[0]) === 'true';
}

/** What an auth hook resolved for one call. */
interface BoundIdentity {
  identity: AuthIdentity | null;
  /** Resolves the caller again from the call's credentials (a fresh auth revision). */
  resolveAgain?: () => AuthIdentity | null;
}

/**
 * Identities the auth hooks resolved, per call: set before the handler runs, read when
 * the handler builds its RequestContext. Weak, so a finished call takes its entry with it.
 */
const resolvedIdentities = new WeakMap<object, BoundIdentity>();

/** Per RequestContext: how to resolve its caller again (see identityResolverOf). */
const resolvers = new WeakMap<RequestContext, () => AuthIdentity | null>();

/**
 * Records who sent `call` (null: auth off / no credentials where that is allowed);
 * undefined clears it. `resolveAgain`, when given, lets long-running handlers re-resolve
 * the caller for each inner step, as etcd resolves the token of every embedded-client call.
 */
export function bindIdentity(call: object, identity: AuthIdentity | null | undefined, resolveAgain?: () => AuthIdentity | null): void {
  if (identity === undefined) resolvedIdentities.delete(call);
  else resolvedIdentities.set(call, resolveAgain === undefined ? { identity } : { identity, resolveAgain });
}

/** The identity an auth hook bound to `call`; undefined when no hook resolved one. */
export function boundIdentity(call: object): AuthIdentity | null | undefined {
  return resolvedIdentities.get(call)?.identity;
}

/** How to resolve the caller of `ctx` again from its credentials; undefined if the hook gave no way. */
export function identityResolverOf(ctx: RequestContext): (() => AuthIdentity | null) | undefined {
  return resolvers.get(ctx);
}

/**
 * A RequestContext whose signal aborts when the client cancels the call or its deadline
 * passes (grpc-js reports both as 'cancelled'). grpc-js also reports 'cancelled' when a
 * call's HTTP/2 stream closes after a normal answer, so a unary handler calls `finish()`
 * once it has answered: the signal then never aborts (and no AbortError is built).
 * `identity` is what the auth hook resolved for this call (see bindIdentity).
 */
export function requestContextFor(call: CallSurface): { ctx: RequestContext; finish: () => void } {
  // The AbortController (and the 'cancelled' listener) is made on the first read of
  // `signal`: most calls (serializable reads, puts answered at once) never look at it, and
  // a controller plus a listener added and removed was a visible share of a read's CPU.
  let controller: AbortController | undefined;
  let finished = false;
  const onCancel = (): void => controller?.abort();
  const ctx: RequestContext = {
    get signal(): AbortSignal {
      if (controller === undefined) {
        controller = new AbortController();
        // After finish() the signal never aborts, as before (see above).
        if (finished) return controller.signal;
        if (call.cancelled) controller.abort();
        else call.once('cancelled', onCancel);
      }
      return controller.signal;
    },
    requireLeader: requiresLeader(call.metadata),
  };
  const bound = resolvedIdentities.get(call);
  if (bound !== undefined) {
    ctx.identity = bound.identity;
    if (bound.resolveAgain !== undefined) resolvers.set(ctx, bound.resolveAgain);
  }
  return {
    ctx,
    finish: () => {
      finished = true;
      if (controller !== undefined) call.off('cancelled', onCancel);
    },
  };
}
