import { EtcdError, GrpcCode } from '../errors';
import type { RequestContext } from '../api/member-port';

/**
 * etcd runs v3lock and v3election through an embedded clientv3, whose errors are plain Go
 * errors by the time the handler returns them: grpc-go then answers UNKNOWN with the same
 * text (e.g. UNKNOWN "etcdserver: requested lease not found"). The handlers pass every
 * failure through here so latchkey answers the same.
 */
export function asEmbeddedClientError(err: unknown): unknown {
  if (err instanceof EtcdError && err.code !== GrpcCode.UNKNOWN) return new EtcdError(GrpcCode.UNKNOWN, err.message);
  return err;
}

/** What a wait ends with when its client canceled the call or its deadline passed (Go: ctx.Err()). */
export function requestCanceled(): EtcdError {
  return new EtcdError(GrpcCode.CANCELLED, 'context canceled');
}

export function throwIfCanceled(signal: AbortSignal): void {
  if (signal.aborted) throw requestCanceled();
}

/** Bound on a cleanup write done after the client went away (Go uses the client's own context). */
export const CLEANUP_TIMEOUT_MS = 5_000;

/**
 * A context for cleaning up after a canceled request (deleting a waiter's key): it must not
 * carry the canceled signal, but it is still bounded.
 */
export function cleanupContext(ctx: RequestContext): RequestContext {
  return { signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS), requireLeader: ctx.requireLeader };
}
