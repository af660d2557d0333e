import type { handleServerStreamingCall, handleUnaryCall, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { AuthGate } from '../auth/auth-gate';
import type { Logger } from '../log';
import { EtcdError, GrpcCode } from '../errors';
import { authorize, credentialsOf, resolverFor, type Resolved } from './auth-policy';
import type { Wire, WireOut } from './codec/wire-scalars';
import { errorToServiceError } from './error-status';
import type { MemberPort, RequestContext } from './member-port';
import { DecodeFailure, type DecodedRequest } from './method-codec';
import { bindIdentity, requestContextFor, type CallSurface } from './request-context';

/**
 * Decode, validate and call the member for one unary request; throw EtcdError to fail it.
 * The answer is the response's wire fields, or its bytes when already encoded by hand.
 */
export type UnaryRun = (request: Wire, ctx: RequestContext) => Promise<WireOut | Buffer>;

/** A grpc-js unary handler around `run`; every failure goes through errorToServiceError. */
export function unaryHandler(method: string, logger: Logger, run: UnaryRun): handleUnaryCall<DecodedRequest, WireOut | Buffer> {
  return (call, callback) => {
    const request = call.request;
    if (request instanceof DecodeFailure) {
      callback(errorToServiceError(request.error, logger, method) as Error);
      return;
    }
    const { ctx, finish } = requestContextFor(call);
    let pending: Promise<WireOut | Buffer>;
    try {
      pending = run(request, ctx);
    } catch (err) {
      finish();
      callback(errorToServiceError(err, logger, method) as Error);
      return;
    }
    pending.then(
      (response) => {
        finish();
        callback(null, response);
      },
      (err: unknown) => {
        finish();
        callback(errorToServiceError(err, logger, method) as Error);
      },
    );
  };
}

/** What the auth hooks check against. */
export interface AuthHook {
  gate: AuthGate;
  member: MemberPort;
  logger: Logger;
}

/**
 * Runs `method`'s auth policy (auth-policy.ts) for one call with a decoded request, then
 * `proceed` with the resolved identity bound to the call (the handler's RequestContext
 * carries it), or `refuse` with etcd's error. Synchronous when nothing has to be looked up.
 */
function isInvalidToken(err: unknown): boolean {
  return err instanceof EtcdError && err.code === GrpcCode.UNAUTHENTICATED;
}

function authorizeCall(
  hook: AuthHook,
  method: string,
  call: CallSurface & { request: DecodedRequest },
  proceed: () => void,
  refuse: (err: unknown) => void,
): void {
  const request = call.request;
  // A request that did not decode fails in the handler with its decode error, as before.
  if (request instanceof DecodeFailure) return proceed();
  // A context for the lookups a check makes (lease keys), made on first use only.
  let lookup: { ctx: RequestContext; finish: () => void } | undefined;
  const lookupCtx = (): RequestContext => {
    lookup ??= requestContextFor(call);
    return lookup.ctx;
  };
  const finish = (): void => lookup?.finish();
  const credentials = credentialsOf(call);
  const admit = (identity: Resolved): void => {
    finish();
    bindIdentity(call, identity, resolverFor(hook.gate, method, credentials));
    proceed();
  };
  let resolved: Resolved | Promise<Resolved>;
  try {
    resolved = authorize(hook.gate, hook.member, method, request, credentials, lookupCtx);
  } catch (err) {
    // A token issued a moment ago by another member may not be applied here yet: as etcd
    // does, wait (bounded) for its Authenticate entry, then decide once more.
    const token = credentials.token;
    const auth = hook.member.auth;
    if (!isInvalidToken(err) || token === undefined || auth === undefined) return refuse(err);
    resolved = auth.tokenApplied(token, lookupCtx()).then(() => authorize(hook.gate, hook.member, method, request, credentials, lookupCtx));
  }
  if (!(resolved instanceof Promise)) return admit(resolved);
  resolved
    .then(admit, (err: unknown) => {
      finish();
      refuse(err);
    })
    // A handler that throws where it should answer is a bug: log it, never leave it unhandled.
    .catch((err: unknown) => hook.logger.error({ err, method }, 'handler failed after the auth check'));
}

/** `handler` behind `method`'s auth policy: a refused call is answered with etcd's error. */
export function authorizedUnary(method: string, hook: AuthHook, handler: handleUnaryCall<DecodedRequest, WireOut | Buffer>): handleUnaryCall<DecodedRequest, WireOut | Buffer> {
  return (call, callback) => {
    authorizeCall(
      hook,
      method,
      call,
      () => handler(call, callback),
      (err) => callback(errorToServiceError(err, hook.logger, method) as Error),
    );
  };
}

/** The same for a server-streaming method (Snapshot, Observe): refused before anything is sent. */
export function authorizedServerStream(
  method: string,
  hook: AuthHook,
  handler: handleServerStreamingCall<DecodedRequest, WireOut>,
): handleServerStreamingCall<DecodedRequest, WireOut> {
  return (call) => {
    authorizeCall(
      hook,
      method,
      call,
      () => handler(call),
      (err) => call.emit('error', errorToServiceError(err, hook.logger, method)),
    );
  };
}

/**
 * Every unary and server-streaming handler of one service behind the auth policy
 * (`prefix` is the policy's service name, e.g. "KV"). Bidi streams (Watch, LeaseKeepAlive)
 * are passed through: Watch checks each create itself, keepalives are not checked.
 */
export function authorizedService(
  prefix: string,
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
  hook: AuthHook,
): UntypedServiceImplementation {
  const guarded: UntypedServiceImplementation = { ...implementation };
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name];
    if (handler === undefined || method.requestStream) continue;
    const policyName = `${prefix}/${name}`;
    guarded[name] = method.responseStream
      ? authorizedServerStream(policyName, hook, handler as handleServerStreamingCall<DecodedRequest, WireOut>)
      : authorizedUnary(policyName, hook, handler as handleUnaryCall<DecodedRequest, WireOut | Buffer>);
  }
  return guarded;
}
