import type { Event } from '../../storage/mvcc/types';
import type { WatchCreateRequest, WatchFilterValue, WatchResponse } from '../../storage/mvcc/watch/types';
import type { ResponseHeader } from '../member-port';
import { eventToWire, headerToWire } from './kv-responses';
import { messageType } from './proto-root';
import { encodeWatchResponseHead } from './watch-response-head';
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

/** protobufjs' Node writer already yields a Buffer; wrap (never copy) anything else. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/**
 * Encoded events, keyed by the Event object: a change fanned out to many watchers is
 * encoded once. Invariant: the watch layer never mutates an Event after handing it out
 * (a watcher without prev_kv gets a different Event object).
 */
const encodedEvents = new WeakMap<Event, Buffer>();

/** Field 11 (events), wire type 2, as a length-delimited record: tag + length + bytes. */
function eventRecord(e: Event): Buffer {
  let record = encodedEvents.get(e);
  if (record === undefined) {
    const body = asBuffer(messageType('mvccpb.Event').encode(eventToWire(e, true)).finish());
    record = Buffer.concat([Buffer.from([0x5a, ...varint(body.length)]), body]);
    encodedEvents.set(e, record);
  }
  return record;
}

/**
 * Encodes a watch response, ready to write. etcd's sendFragments: for a watcher that asked
 * for fragments, a response of at least `thresholdBytes` with two or more events goes out
 * in parts, each staying under the threshold but holding at least one event; every part
 * except the last has fragment=true.
 */
export function encodeWatchResponse(header: ResponseHeader, r: WatchResponse, thresholdBytes: number): Buffer[] {
  const records = r.events.map(eventRecord);
  const plain = encodeWatchResponseHead(header, r, false);
  let total = plain.length;
  for (const record of records) total += record.length;
  if (!r.fragment || records.length < 2 || total < thresholdBytes) return [Buffer.concat([plain, ...records], total)];

  const fragmentFields = encodeWatchResponseHead(header, r, true);
  const parts: Buffer[] = [];
  let index = 0;
  while (index < records.length) {
    const start = index;
    let size = fragmentFields.length;
    for (; index < records.length; index++) {
      size += records[index]!.length;
      if (index > start && size >= thresholdBytes) break;
    }
    const head = index === records.length ? plain : fragmentFields;
    parts.push(Buffer.concat([head, ...records.slice(start, index)]));
  }
  return parts;
}
