import {
  Scenario, cmp, del, grant, lease, opDel, opPut, put, revoke, rev, txn,
  wCancel, wClose, wCreate, wOpen, wProgress, wQuiet, wRecv,
} from './scenario';

/** Watch (facts §9). Stream 'w' unless named. */
export const watchScenarios: Scenario[] = [
  {
    name: 'created response, then PUT and DELETE events (DELETE kv has only key and mod_revision)',
    steps: [wOpen(), wCreate('a'), wRecv(1), put('a', '1'), wRecv(1), put('a', '2'), wRecv(1), del('a'), wRecv(1), wQuiet()],
  },
  {
    name: 'prev_kv: absent on creation, present on update and delete',
    steps: [wOpen(), wCreate('a', { prev_kv: true }), wRecv(1), put('a', '1'), put('a', '2'), del('a'), wRecv(3)],
  },
  {
    name: 'NOPUT filter drops puts; NODELETE drops deletes',
    steps: [
      wOpen(), wCreate('a', { filters: ['NOPUT'] }), wRecv(1), wCreate('a', { filters: ['NODELETE'] }), wRecv(1),
      put('a', '1'), wRecv(1), del('a'), wRecv(1), wQuiet(),
    ],
  },
  {
    name: 'both filters: nothing is ever sent',
    steps: [wOpen(), wCreate('a', { filters: ['NOPUT', 'NODELETE'] }), wRecv(1), put('a'), del('a'), wQuiet()],
  },
  {
    name: 'start_revision in the past replays history, then live events',
    steps: [put('a', '1'), put('b', '1'), put('a', '2'), del('a'), wOpen(), wCreate('a', { start_revision: rev(1) }), wRecv(2), put('a', '3'), wRecv(1)],
  },
  {
    name: 'replay of a prefix with prev_kv',
    steps: [put('p/1', 'x'), put('p/2', 'y'), put('p/1', 'z'), del('p/2'), wOpen(), wCreate('p/', { range_end: 'p0', start_revision: rev(1), prev_kv: true }), wRecv(2)],
  },
  {
    name: 'start_revision in the future waits for that revision',
    steps: [wOpen(), wCreate('a', { start_revision: rev(2) }), wRecv(1), put('a', '1'), wQuiet(200), put('a', '2'), wRecv(1)],
  },
  {
    name: 'prefix watch: a txn writing two keys is one response with two events',
    steps: [
      wOpen(), wCreate('p/', { range_end: 'p0' }), wRecv(1),
      txn({ compare: [cmp('p/x', 'CREATE', 'EQUAL', 0)], success: [opPut('p/x', '1'), opPut('p/y', '2'), opPut('q', 'outside')] }),
      wRecv(1),
      txn({ success: [opDel('p/', { range_end: 'p0' })] }),
      wRecv(1),
    ],
  },
  {
    name: 'from-key watch (range_end "\\0")',
    steps: [wOpen(), wCreate('m', { range_end: '\0' }), wRecv(1), put('a'), put('m'), put('z'), wRecv(2)],
  },
  {
    name: 'an empty key is accepted by watch and means "\\0"',
    steps: [wOpen(), wCreate('', { range_end: '\0' }), wRecv(1), put('a'), wRecv(1), wCreate(''), wRecv(1), put('b'), wRecv(1), wQuiet(200)],
  },
  {
    name: 'watch IDs: automatic from 0, explicit honoured, automatic skips IDs in use, duplicate → -1',
    steps: [
      wOpen(),
      wCreate('a', { watch_id: 2 }), wRecv(1),
      wCreate('a'), wRecv(1),
      wCreate('a'), wRecv(1),
      wCreate('a'), wRecv(1),
      wCreate('a', { watch_id: 1 }), wRecv(1),
      put('a'), wRecv(4, { sorted: true }),
    ],
  },
  {
    name: 'cancel: acknowledged once; unknown ids are ignored; nothing after the ack',
    steps: [
      wOpen(), wCreate('a'), wRecv(1), wCreate('b'), wRecv(1),
      wCancel(0), wRecv(1), wCancel(0), wCancel(42), wQuiet(200),
      put('a'), put('b'), wRecv(1), wQuiet(200),
    ],
  },
  {
    name: 'progress request → watch_id -1 with the current revision',
    steps: [put('a'), wOpen(), wCreate('a'), wRecv(1), put('x'), wProgress(), wRecv(1)],
  },
  {
    name: 'empty range (key >= range_end) → created and canceled, watch_id -1',
    steps: [wOpen(), wCreate('b', { range_end: 'a' }), wRecv(1), wCreate('b', { range_end: 'b' }), wRecv(1), wCreate('c'), wRecv(1)],
  },
  {
    name: 'two streams each get their own events and ids',
    steps: [
      wOpen('s1'), wOpen('s2'),
      wCreate('a', {}, 's1'), wRecv(1, { stream: 's1' }),
      wCreate('a', {}, 's2'), wRecv(1, { stream: 's2' }),
      wCreate('b', {}, 's2'), wRecv(1, { stream: 's2' }),
      put('a'), put('b'),
      wRecv(1, { stream: 's1' }), wRecv(2, { stream: 's2', sorted: true }),
      wClose('s1'), put('a', 'again'), wRecv(1, { stream: 's2' }),
    ],
  },
  {
    name: 'revoking a lease produces DELETE events for its keys',
    steps: [grant(60), put('l/1', 'a', { lease: lease(0) }), put('l/2', 'b', { lease: lease(0) }), wOpen(), wCreate('l/', { range_end: 'l0', prev_kv: true }), wRecv(1), revoke(lease(0)), wRecv(1)],
  },
  {
    name: 'no-op delete and read-only txn produce no events',
    steps: [wOpen(), wCreate('a', { range_end: 'z' }), wRecv(1), del('nothing'), txn({ success: [] }), wQuiet(200), put('b'), wRecv(1)],
  },
  {
    name: 'large values pass through a watch unchanged',
    steps: [wOpen(), wCreate('big'), wRecv(1), put('big', 'v'.repeat(1_000_000)), wRecv(1)],
  },
  {
    name: 'fragment: a replay over 2 MiB is split when asked, sent whole otherwise',
    timeoutMs: 30_000,
    steps: [
      put('f/1', '1'.repeat(1_000_000)), put('f/2', '2'.repeat(1_000_000)), put('f/3', '3'.repeat(1_000_000)),
      wOpen(), wCreate('f/', { range_end: 'f0', start_revision: rev(1), fragment: true }), wRecv(3), wQuiet(200),
      wOpen('whole'), wCreate('f/', { range_end: 'f0', start_revision: rev(1) }, 'whole'), wRecv(2, { stream: 'whole' }),
    ],
  },
  {
    name: 'automatic watch IDs are not reused after a cancel',
    steps: [wOpen(), wCreate('a'), wRecv(1), wCancel(0), wRecv(1), wCreate('a'), wRecv(1), put('a'), wRecv(1)],
  },
  {
    name: 'progress request on a stream without watchers',
    steps: [put('a'), wOpen(), wProgress(), wRecv(1)],
  },
  {
    name: 'replay honours filters and prev_kv',
    steps: [
      put('a', '1'), put('a', '2'), del('a'), put('a', '3'),
      wOpen(), wCreate('a', { start_revision: rev(1), filters: ['NOPUT'], prev_kv: true }), wRecv(2),
      wCreate('a', { start_revision: rev(2), filters: ['NODELETE'] }), wRecv(2),
    ],
  },
  {
    name: 'many watchers on one key each get the event',
    steps: [
      wOpen(), wCreate('a'), wRecv(1), wCreate('a'), wRecv(1), wCreate('a', { prev_kv: true }), wRecv(1),
      put('a', '1'), put('a', '2'), wRecv(6, { sorted: true }),
    ],
  },
];
