import type { LocksSnapshot, LockView, QueueEntry } from './locks-scan';

/**
 * Output of `latchkey locks`: a table for people, JSON for programs. In JSON every 64-bit
 * number (revisions, fencing tokens, TTLs) is a decimal string and lease ids are hex, as
 * the keys spell them, so nothing loses precision in a JavaScript JSON parser.
 */

export interface LocksJson {
  revision: string;
  locks: Array<{
    name: string;
    kind: 'lock' | 'election';
    holder: {
      key: string;
      leaseId: string;
      fencingToken: string;
      heldSinceRevision: string;
      ttlSeconds?: string;
      grantedTtlSeconds?: string;
      value: string;
    };
    waiters: Array<{ position: number; key: string; leaseId: string; createRevision: string; value: string }>;
  }>;
}

export function toJson(snapshot: LocksSnapshot): LocksJson {
  return {
    revision: snapshot.revision.toString(),
    locks: snapshot.locks.map((lock) => ({
      name: lock.name,
      kind: lock.kind,
      holder: {
        key: lock.holder.key,
        leaseId: lock.holder.leaseId.toString(16),
        fencingToken: lock.holder.createRevision.toString(),
        heldSinceRevision: lock.holder.createRevision.toString(),
        ...(lock.holderTtlSeconds !== undefined ? { ttlSeconds: lock.holderTtlSeconds.toString() } : {}),
        ...(lock.holderGrantedTtlSeconds !== undefined ? { grantedTtlSeconds: lock.holderGrantedTtlSeconds.toString() } : {}),
        value: lock.holder.value,
      },
      waiters: lock.waiters.map((waiter, index) => ({
        position: index + 1,
        key: waiter.key,
        leaseId: waiter.leaseId.toString(16),
        createRevision: waiter.createRevision.toString(),
        value: waiter.value,
      })),
    })),
  };
}

const HEADER = ['NAME', 'KIND', 'ROLE', 'LEASE', 'REVISION', 'TTL', 'VALUE'] as const;
/** Long values are cut in the table (the JSON has them whole). */
const VALUE_CHARS_MAX = 40;

function row(lock: LockView, entry: QueueEntry, role: string, ttl: string): string[] {
  const value = entry.value.length > VALUE_CHARS_MAX ? `${entry.value.slice(0, VALUE_CHARS_MAX - 1)}…` : entry.value;
  return [lock.name, lock.kind, role, entry.leaseId.toString(16), entry.createRevision.toString(), ttl, value];
}

function holderTtl(lock: LockView): string {
  if (lock.holderTtlSeconds === undefined) return '-';
  return `${lock.holderTtlSeconds}s/${lock.holderGrantedTtlSeconds ?? '?'}s`;
}

/**
 * One row per holder and waiter. For the holder, REVISION is the create revision of its key:
 * its fencing token and the revision it has queued/held since; for waiters, their place in
 * the queue.
 */
export function toTable(snapshot: LocksSnapshot): string {
  if (snapshot.locks.length === 0) return `no locks or elections at revision ${snapshot.revision}\n`;
  const rows: string[][] = [];
  for (const lock of snapshot.locks) {
    rows.push(row(lock, lock.holder, lock.kind === 'election' ? 'leader' : 'holder', holderTtl(lock)));
    lock.waiters.forEach((waiter, index) => rows.push(row(lock, waiter, `waiter ${index + 1}`, '-')));
  }
  const widths = HEADER.map((title, column) => Math.max(title.length, ...rows.map((cells) => cells[column]!.length)));
  const format = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [`${snapshot.locks.length} locks and elections at revision ${snapshot.revision}`, format(HEADER), ...rows.map(format)].join('\n') + '\n';
}
