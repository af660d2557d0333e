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
 * passes (grpc-js reports both as 'cancelled'). The listener goes with the call object.
 */
export function requestContextFor(call: CallSurface): RequestContext {
  const controller = new AbortController();
  if (call.cancelled) controller.abort();
  else call.once('cancelled', () => controller.abort());
  return { signal: controller.signal, requireLeader: requiresLeader(call.metadata) };
}
