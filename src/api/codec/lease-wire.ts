import type { LeaseGrantResult, LeaseKeepAliveResult, LeaseTimeToLiveResult, ResponseHeader } from '../member-port';
import { headerToWire } from './kv-responses';
import { int64ToWire, type WireOut } from './wire-scalars';

function setInt64(out: WireOut, field: string, value: bigint): WireOut {
  if (value !== 0n) out[field] = int64ToWire(value);
  return out;
}

export function leaseGrantResponseToWire(h: ResponseHeader, r: LeaseGrantResult): WireOut {
  const out: WireOut = { header: headerToWire(h) };
  setInt64(out, 'ID', r.id);
  return setInt64(out, 'TTL', r.ttlSeconds);
}

/** TTL 0 (omitted) tells the client the lease is gone. */
export function leaseKeepAliveResponseToWire(h: ResponseHeader, r: LeaseKeepAliveResult): WireOut {
  const out: WireOut = { header: headerToWire(h) };
  setInt64(out, 'ID', r.id);
  return setInt64(out, 'TTL', r.ttlSeconds);
}

export function leaseTimeToLiveResponseToWire(h: ResponseHeader, r: LeaseTimeToLiveResult): WireOut {
  const out: WireOut = { header: headerToWire(h) };
  setInt64(out, 'ID', r.id);
  setInt64(out, 'TTL', r.ttlSeconds);
  setInt64(out, 'grantedTTL', r.grantedTtlSeconds);
  if (r.keys.length > 0) out.keys = r.keys;
  return out;
}

export function leaseLeasesResponseToWire(h: ResponseHeader, ids: bigint[]): WireOut {
  const out: WireOut = { header: headerToWire(h) };
  if (ids.length > 0) out.leases = ids.map((id) => setInt64({}, 'ID', id));
  return out;
}
