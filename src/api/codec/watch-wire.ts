import type { WatchCreateRequest, WatchFilterValue, WatchResponse } from '../../storage/mvcc/watch/types';
import type { ResponseHeader } from '../member-port';
import { eventToWire, headerToWire } from './kv-responses';
import { messageType } from './proto-root';
import { hasField, int64ToWire, wireBool, wireBytes, wireEnum, wireInt64, type Wire, type WireOut } from './wire-scalars';

export type WatchRequestModel =
  | { kind: 'create'; create: WatchCreateRequest }
  | { kind: 'cancel'; watchId: bigint }
  | { kind: 'progress' }
  /** No oneof member set: etcd ignores such a request. */
  | { kind: 'none' };

/** Bound on filters per create request (only two kinds exist; duplicates are pointless). */
const MAX_FILTERS = 16;

export function watchCreateFromWire(w: Wire): WatchCreateRequest {
  const filters: Wire[] = Array.isArray(w.filters) ? w.filters.slice(0, MAX_FILTERS) : [];
  return {
    key: wireBytes(w.key),
    rangeEnd: wireBytes(w.range_end),
    startRevision: wireInt64(w.start_revision),
    progressNotify: wireBool(w.progress_notify),
    filters: filters.map((f) => wireEnum<WatchFilterValue>(f, 1)),
    prevKv: wireBool(w.prev_kv),
    watchId: wireInt64(w.watch_id),
    fragment: wireBool(w.fragment),
  };
}

export function watchRequestFromWire(w: Wire): WatchRequestModel {
  if (hasField(w, 'create_request')) return { kind: 'create', create: watchCreateFromWire(w.create_request) };
  if (hasField(w, 'cancel_request')) return { kind: 'cancel', watchId: wireInt64(w.cancel_request.watch_id) };
  if (hasField(w, 'progress_request')) return { kind: 'progress' };
  return { kind: 'none' };
}

function watchResponseFields(header: ResponseHeader, r: WatchResponse): WireOut {
  const out: WireOut = { header: headerToWire(header) };
  if (r.watchId !== 0n) out.watch_id = int64ToWire(r.watchId);
  if (r.created) out.created = true;
  if (r.canceled) out.canceled = true;
  if (r.compactRevision !== 0n) out.compact_revision = int64ToWire(r.compactRevision);
  if (r.cancelReason.length > 0) out.cancel_reason = r.cancelReason;
  return out;
}

/** Events arrive with prevKv only when the watcher asked for it (the watch layer decides). */
export function watchResponseToWire(header: ResponseHeader, r: WatchResponse): WireOut {
  const out = watchResponseFields(header, r);
  if (r.events.length > 0) out.events = r.events.map((e) => eventToWire(e, true));
  return out;
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/**
 * etcd's sendFragments: a response of at least `thresholdBytes` with two or more events,
 * for a watcher that asked for fragments, goes out in parts that each stay under the
 * threshold (but hold at least one event); every part except the last has fragment=true.
 * Returns the encoded messages, ready to write.
 */
export function encodeWatchResponse(header: ResponseHeader, r: WatchResponse, thresholdBytes: number): Buffer[] {
  const type = messageType('etcdserverpb.WatchResponse');
  const whole = Buffer.from(type.encode(watchResponseToWire(header, r)).finish());
  if (!r.fragment || r.events.length < 2 || whole.length < thresholdBytes) return [whole];

  const eventType = messageType('mvccpb.Event');
  const base = watchResponseFields(header, r);
  const baseBytes = type.encode({ ...base, fragment: true }).finish().length;
  // Field 11 (events) has a one-byte tag.
  const eventSizes = r.events.map((e) => {
    const size = eventType.encode(eventToWire(e, true)).finish().length;
    return 1 + varintLength(size) + size;
  });
  const parts: Buffer[] = [];
  let index = 0;
  while (index < r.events.length) {
    const start = index;
    let size = baseBytes;
    for (; index < r.events.length; index++) {
      size += eventSizes[index]!;
      if (index > start && size >= thresholdBytes) break;
    }
    const last = index === r.events.length;
    const part: WireOut = { ...base, events: r.events.slice(start, index).map((e) => eventToWire(e, true)) };
    if (!last) part.fragment = true;
    parts.push(Buffer.from(type.encode(part).finish()));
  }
  return parts;
}
