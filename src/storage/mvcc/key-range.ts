/**
 * etcd's key-range rules (facts §4): empty rangeEnd = the single key; "\0" = every key >= key;
 * otherwise the half-open interval [key, rangeEnd) in bytewise order.
 */

export function isSingleKey(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 0;
}

export function isFromKey(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

/** Whether `candidate` lies in the range described by (key, rangeEnd). */
export function inKeyRange(candidate: Uint8Array, key: Uint8Array, rangeEnd: Uint8Array): boolean {
  if (isSingleKey(rangeEnd)) return Buffer.compare(candidate, key) === 0;
  if (Buffer.compare(candidate, key) < 0) return false;
  return isFromKey(rangeEnd) || Buffer.compare(candidate, rangeEnd) < 0;
}

/** True when a multi-key range can hold nothing (key >= rangeEnd, not the from-key form). */
export function isEmptyInterval(key: Uint8Array, rangeEnd: Uint8Array): boolean {
  return !isSingleKey(rangeEnd) && !isFromKey(rangeEnd) && Buffer.compare(key, rangeEnd) >= 0;
}

/**
 * Longest user key the store accepts. LMDB keys are at most 1978 bytes; the key index stores
 * an escaped key (worst case 2n + 2 bytes) plus a 16-byte revision.
 */
export const MAX_KEY_BYTES = 980;
