import type { Metadata } from '@grpc/grpc-js';
import type { EventEmitter } from 'node:events';
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

/**
 * A RequestContext whose signal aborts when the client cancels the call or its deadline
 * passes (grpc-js reports both as 'cancelled'). grpc-js also reports 'cancelled' when a
 * call's HTTP/2 stream closes after a normal answer, so a unary handler calls `finish()`
 * once it has answered: the signal then never aborts (and no AbortError is built).
 */
export function requestContextFor(call: CallSurface): { ctx: RequestContext; finish: () => void } {
  const controller = new AbortController();
  const onCancel = (): void => controller.abort();
  if (call.cancelled) controller.abort();
  else call.once('cancelled', onCancel);
  return {
    ctx: { signal: controller.signal, requireLeader: requiresLeader(call.metadata) },
    finish: () => {
      call.off('cancelled', onCancel);
    },
  };
}
