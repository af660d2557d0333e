import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KeyValue } from '../../../src/storage/mvcc/types';
import { b, del, openTestStore, put, rangeReq, text } from './helpers';

/**
 * Model check: random puts, range deletes and compactions against a map-per-revision model;
 * every read at every still-readable revision, over random ranges, must match the model.
 */

type Snapshot = Map<string, KeyValue>;

const KEYS = ['a', 'a\0', 'ab', 'b', 'b\xff', 'c'];
const key = fc.constantFrom(...KEYS);
const command = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), key, value: fc.constantFrom('x', 'y', '') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key, end: fc.constantFrom('', '\0', 'b', 'c', 'd') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(4) }) },
);

function inRange(candidate: string, start: string, end: string): boolean {
  const c = b(candidate);
  if (end === '') return candidate === start;
  if (Buffer.compare(c, b(start)) < 0) return false;
  return end === '\0' || Buffer.compare(c, b(end)) < 0;
}

function sortedKeys(snapshot: Snapshot, start: string, end: string): string[] {
  return [...snapshot.keys()].filter((k) => inRange(k, start, end)).sort((x, y) => Buffer.compare(b(x), b(y)));
}

describe('mvcc store against a model', () => {
  test('reads at every readable revision match the model after random histories', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 25 }), async (commands) => {
        const opened = openTestStore();
        try {
          const snapshots = new Map<bigint, Snapshot>([[1n, new Map()]]);
          let revision = 1n;
          let compacted = 0n;
          for (const cmd of commands) {
            const current = snapshots.get(revision) as Snapshot;
            if (cmd.kind === 'put') {
              const prev = current.get(cmd.key);
              revision++;
              const next = new Map(current);
              next.set(cmd.key, {
                key: b(cmd.key),
                createRevision: prev ? prev.createRevision : revision,
                modRevision: revision,
                version: prev ? prev.version + 1n : 1n,
                value: b(cmd.value),
                lease: 0n,
              });
              snapshots.set(revision, next);
              assert.equal(put(opened.store, cmd.key, cmd.value).outcome.revision, revision);
            } else if (cmd.kind === 'delete') {
              if (cmd.end !== '' && cmd.end !== '\0' && Buffer.compare(b(cmd.key), b(cmd.end)) >= 0) continue;
              const doomed = sortedKeys(current, cmd.key, cmd.end);
              const { result } = del(opened.store, cmd.key, cmd.end);
              assert.equal(result.deleted, BigInt(doomed.length));
              if (doomed.length > 0) {
                revision++;
                const next = new Map(current);
                for (const k of doomed) next.delete(k);
                snapshots.set(revision, next);
              }
            } else {
              const target = revision - BigInt(cmd.back);
              if (target <= compacted || target < 1n) continue;
              opened.store.write((w) => w.compact(target));
              compacted = target;
            }
          }
          assert.equal(opened.store.currentRevision(), revision);
          const ranges: [string, string][] = [['a', ''], ['a', 'b'], ['a\0', '\0'], ['\0', '\0'], ['b', 'c'], ['ab', '']];
          for (let at = compacted > 1n ? compacted : 1n; at <= revision; at++) {
            const snapshot = snapshots.get(at) as Snapshot;
            for (const [start, end] of ranges) {
              const result = opened.store.range(rangeReq(start, end, { revision: at }));
              const expected = sortedKeys(snapshot, start, end).map((k) => snapshot.get(k) as KeyValue);
              assert.deepEqual(
                result.kvs.map((kv) => [text(kv.key), text(kv.value), kv.createRevision, kv.modRevision, kv.version]),
                expected.map((kv) => [text(kv.key), text(kv.value), kv.createRevision, kv.modRevision, kv.version]),
                `range [${start}, ${end}) at ${at} (compacted ${compacted})`,
              );
              assert.equal(result.count, BigInt(expected.length));
            }
          }
          const events = opened.store.eventsBetween(compacted + 1n, revision, b('\0'), b('\0'));
          for (const event of events) {
            const before = snapshots.get(event.kv.modRevision - 1n) as Snapshot;
            const prev = before.get(text(event.kv.key));
            assert.equal(event.prevKv?.modRevision, prev?.modRevision);
          }
        } finally {
          await opened.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });
});
