import type { WatchRange } from '../history';

/** Whether key falls in the range, by etcd's byte-wise rules on the UTF-8 encoding. */
export function rangeContains(range: WatchRange, key: string): boolean {
  const start = Buffer.from(range.key);
  const probe = Buffer.from(key);
  if (range.rangeEnd === undefined || range.rangeEnd === '') return probe.equals(start);
  if (Buffer.compare(probe, start) < 0) return false;
  if (range.rangeEnd === '\0') return true;
  return Buffer.compare(probe, Buffer.from(range.rangeEnd)) < 0;
}
