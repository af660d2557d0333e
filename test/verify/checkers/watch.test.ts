import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkWatch } from '../../../src/verify/checkers';
import type { KvEvent, WatcherLog, WatchHistory, WatchRecord } from '../../../src/verify/history';

const put = (revision: number, key: string, value: string): KvEvent => ({ revision: BigInt(revision), key, type: 'put', value });
const del = (revision: number, key: string): KvEvent => ({ revision: BigInt(revision), key, type: 'delete' });

const authoritative: KvEvent[] = [
  put(2, 'a/1', 'x'),
  put(3, 'b/1', 'y'),
  put(4, 'a/2', 'z'),
  put(5, 'a/1', 'w'),
  del(6, 'a/2'),
  put(7, 'a/3', 'v'),
];
const prefixA = { key: 'a/', rangeEnd: 'a0' };

function received(events: KvEvent[]): WatchRecord[] {
  return events.map((event, index) => ({ kind: 'event' as const, event, atMs: index }));
}
function watcher(records: WatchRecord[], startRevision = 1, range = prefixA): WatcherLog {
  return { watcher: 1, range, startRevision: BigInt(startRevision), untilRevision: 7n, records };
}
function check(...watchers: WatcherLog[]) {
  const history: WatchHistory = { watchers, authoritative };
  return checkWatch(history);
}
const inRangeA = authoritative.filter((event) => event.key.startsWith('a/'));

describe('watch checker', () => {
  test('watchers that see their whole range once, in order, across a reconnect, pass', () => {
    const records = received(inRangeA);
    records.splice(2, 0, { kind: 'reconnect', resumeFromRevision: 5n, atMs: 1.5 });
    const single = watcher(received([put(5, 'a/1', 'w')]), 4, { key: 'a/1', rangeEnd: '' });
    const everything = watcher(received(authoritative), 1, { key: '\0', rangeEnd: '\0' });
    const result = check(watcher(records), single, everything);
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
    assert.equal(result.stats['reconnects'], 1);
  });

  test('a revision missed across a reconnect is a violation', () => {
    const records = received(inRangeA.filter((event) => event.revision !== 5n));
    const result = check(watcher(records));
    assert.equal(result.outcome, 'invalid');
    assert.match(result.violations[0]!.message, /missed put "a\/1"@5/);
  });

  test('a duplicated event (replayed after reconnect) is a violation', () => {
    const records = received([...inRangeA.slice(0, 2), ...inRangeA.slice(1)]);
    const result = check(watcher(records));
    assert.ok(result.violations.some((v) => /received put "a\/2"@4 twice/.test(v.message)));
  });

  test('events out of order are a violation', () => {
    const records = received([inRangeA[1]!, inRangeA[0]!, ...inRangeA.slice(2)]);
    const result = check(watcher(records));
    assert.ok(result.violations.some((v) => /out of order/.test(v.message)));
  });

  test('wrong content, foreign keys and phantom revisions are violations', () => {
    const wrong = received([put(2, 'a/1', 'WRONG'), ...inRangeA.slice(1), put(3, 'b/1', 'y'), put(6, 'a/9', 'p')]);
    const found = check(watcher(wrong)).violations.map((v) => v.message);
    assert.ok(found.some((m) => /"WRONG"; the store has/.test(m)), found.join('\n'));
    assert.ok(found.some((m) => /outside its range/.test(m)), found.join('\n'));
    assert.ok(found.some((m) => /which the store never had/.test(m)), found.join('\n'));
  });

  test('events missing below a reported compaction are excused, others are not', () => {
    const records: WatchRecord[] = [
      ...received([inRangeA[0]!]),
      { kind: 'compacted', compactRevision: 6n, atMs: 5 },
      ...received(inRangeA.slice(3)),
    ];
    const result = check(watcher(records));
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
    assert.equal(result.stats['eventsExcusedByCompaction'], 2);
  });
});
