import * as crypto from 'node:crypto';
import type { Wire } from '../../support/etcd-client';

/**
 * Turns a decoded response into a comparable value: drops what legitimately differs between
 * two servers (cluster_id, member_id, raft_term), writes revisions as offsets from the
 * scenario's starting revision (`@3`), lease IDs by order of grant (`L0`, `L1`, `L?` for a
 * lease this scenario did not grant), keys without the scenario prefix, bytes as text, and
 * removes proto3 default values (absent and explicit zero are the same thing on the wire).
 */
export interface NormalizeContext {
  base: bigint;
  prefix: Buffer;
  leaseIds: string[];
}

const DROPPED = new Set(['cluster_id', 'member_id', 'raft_term']);
const REVISION_FIELDS = new Set(['revision', 'create_revision', 'mod_revision', 'compact_revision']);
const LEASE_FIELDS = new Set(['ID', 'lease']);
const KEY_FIELDS = new Set(['key', 'range_end', 'keys']);
const DROP = Symbol('drop');

export function leaseLabel(id: string, ctx: NormalizeContext): string {
  const index = ctx.leaseIds.indexOf(id);
  return index >= 0 ? `L${index}` : 'L?';
}

function showBytes(field: string, bytes: Buffer, ctx: NormalizeContext): string {
  let shown = bytes;
  let marker = '';
  if (KEY_FIELDS.has(field) && bytes.length >= ctx.prefix.length && bytes.subarray(0, ctx.prefix.length).equals(ctx.prefix)) {
    shown = bytes.subarray(ctx.prefix.length);
  } else if (KEY_FIELDS.has(field)) {
    marker = '!'; // a key outside the scenario prefix
  }
  if (shown.length > 64) {
    return `${marker}<${shown.length} bytes sha1:${crypto.createHash('sha1').update(shown).digest('hex').slice(0, 12)}>`;
  }
  const printable = shown.every((byte) => byte >= 0x20 && byte < 0x7f);
  return marker + (printable ? shown.toString('latin1') : `hex:${shown.toString('hex')}`);
}

function normalizeValue(field: string, value: unknown, ctx: NormalizeContext): unknown {
  if (value === null || value === undefined) return DROP;
  if (Buffer.isBuffer(value)) return value.length === 0 ? DROP : showBytes(field, value, ctx);
  if (Array.isArray(value)) {
    if (value.length === 0) return DROP;
    return value.map((element) => {
      const normalized = normalizeValue(field, element, ctx);
      return normalized === DROP ? null : normalized;
    });
  }
  if (typeof value === 'object') return normalizeObject(value as Wire, ctx);
  if (typeof value === 'boolean') return value ? true : DROP;
  if (typeof value === 'number') return value === 0 ? DROP : value;
  if (typeof value === 'string') {
    if (value === '' || value === '0') return DROP;
    if (REVISION_FIELDS.has(field)) return `@${BigInt(value) - ctx.base}`;
    if (LEASE_FIELDS.has(field)) return leaseLabel(value, ctx);
    if (field === 'type') return value === 'Put' || value === 'PUT' ? DROP : value.toUpperCase(); // Event.type; PUT is enum zero
    return value;
  }
  return value;
}

function normalizeObject(object: Wire, ctx: NormalizeContext): Wire {
  const out: Wire = {};
  for (const field of Object.keys(object).sort()) {
    if (DROPPED.has(field)) continue;
    const normalized = normalizeValue(field, object[field], ctx);
    if (normalized !== DROP) out[field] = normalized;
  }
  return out;
}

export function normalize(response: Wire, ctx: NormalizeContext): Wire {
  return normalizeObject(response, ctx);
}
