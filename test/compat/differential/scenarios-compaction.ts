import { Scenario, compact, del, get, opGet, put, rev, txn, wCreate, wOpen, wRecv, wCancel, wQuiet } from './scenario';

/** Compaction (facts §8, §9.3). Compaction is global: each scenario compacts only at or after its own start. */
export const compactionScenarios: Scenario[] = [
  {
    name: 'reads below the compacted revision fail; at or above it they work',
    steps: [
      put('a', '1'), put('a', '2'), put('a', '3'),
      compact(rev(2)),
      get('a', { revision: rev(1) }),
      get('a', { revision: rev(2) }),
      get('a', { revision: rev(3) }),
      get('a'),
    ],
  },
  {
    name: 'compacting again at or below the compacted revision fails; future fails',
    steps: [put('a', '1'), put('a', '2'), compact(rev(2)), compact(rev(2)), compact(rev(1)), compact(0), compact(rev(10)), put('b')],
  },
  {
    name: 'physical compaction answers like a plain one',
    steps: [put('a', '1'), put('a', '2'), compact(rev(1), true), get('a', { revision: rev(1) })],
  },
  {
    name: 'the latest version of a key survives compaction, deleted keys vanish',
    steps: [put('a', 'keep'), put('b', 'gone'), put('c', 'x'), put('c', 'y'), del('b'), put('d'), compact(rev(4)), get('\0', { range_end: '\0' }), get('c', { revision: rev(4) })],
  },
  {
    name: 'txn range at a compacted revision fails the txn',
    steps: [put('a', '1'), put('a', '2'), compact(rev(2)), txn({ success: [opGet('a', { revision: rev(1) })] }), txn({ success: [opGet('a', { revision: rev(2) })] })],
  },
  {
    name: 'watch from a compacted revision: created, then canceled with compact_revision',
    steps: [
      put('w', '1'), put('w', '2'), put('w', '3'), compact(rev(3)),
      wOpen(),
      wCreate('w', { start_revision: rev(1) }),
      wRecv(2),
      wQuiet(200),
    ],
  },
  {
    name: 'watch from exactly the compacted revision replays from it',
    steps: [
      put('w', '1'), put('w', '2'), put('w', '3'), compact(rev(2)),
      wOpen(),
      wCreate('w', { start_revision: rev(2) }),
      wRecv(2),
      wCancel(0),
      wRecv(1),
    ],
  },
];
