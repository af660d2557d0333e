import { Scenario, del, get, grant, keyBytes, lease, put, rev, timeToLive } from './scenario';

const MAX_REQUEST_BYTES = 1_572_864;

/** Put, Range and DeleteRange (facts §3–§6). */
export const kvScenarios: Scenario[] = [
  {
    name: 'put creates a key: version 1, create = mod = new revision',
    steps: [put('a', 'v1'), get('a')],
  },
  {
    name: 'second put bumps version and mod, keeps create; prev_kv returns the old KeyValue',
    steps: [put('a', 'v1'), put('a', 'v2', { prev_kv: true }), get('a')],
  },
  {
    name: 'identical re-put still makes a new revision',
    steps: [put('a', 'same'), put('a', 'same'), get('a')],
  },
  {
    name: 'prev_kv on a new key is absent',
    steps: [put('new', 'x', { prev_kv: true })],
  },
  {
    name: 'range of a missing key has only the header',
    steps: [get('missing'), get('missing', { count_only: true })],
  },
  {
    name: 'prefix range [a/, a0) excludes neighbours',
    steps: [put('a', '0'), put('a/1', '1'), put('a/2', '2'), put('a0', 'x'), put('b', 'y'), get('a/', { range_end: 'a0' })],
  },
  {
    name: 'from-key range (range_end "\\0") returns every later key',
    steps: [put('a', '1'), put('b', '2'), put('c', '3'), get('b', { range_end: '\0' })],
  },
  {
    name: 'limit caps kvs, count ignores limit, more is set',
    steps: [
      put('k1', '1'), put('k2', '2'), put('k3', '3'), put('k4', '4'), put('k5', '5'),
      get('k', { range_end: 'l', limit: 2 }),
      get('k', { range_end: 'l', limit: 5 }),
      get('k', { range_end: 'l', limit: 6 }),
    ],
  },
  {
    name: 'sort by KEY DESCEND with limit',
    steps: [put('k1'), put('k2'), put('k3'), get('k', { range_end: 'l', sort_target: 'KEY', sort_order: 'DESCEND', limit: 2 })],
  },
  {
    name: 'sort by VALUE with order NONE is ascending',
    steps: [
      put('k1', 'c'), put('k2', 'a'), put('k3', 'b'),
      get('k', { range_end: 'l', sort_target: 'VALUE' }),
      get('k', { range_end: 'l', sort_target: 'VALUE', sort_order: 'DESCEND' }),
    ],
  },
  {
    name: 'sort by CREATE, MOD and VERSION',
    steps: [
      put('k2', 'x'), put('k1', 'x'), put('k3', 'x'), put('k2', 'y'), put('k2', 'z'), put('k1', 'y'),
      get('k', { range_end: 'l', sort_target: 'CREATE', sort_order: 'DESCEND', limit: 2 }),
      get('k', { range_end: 'l', sort_target: 'MOD', sort_order: 'ASCEND' }),
      get('k', { range_end: 'l', sort_target: 'VERSION', sort_order: 'DESCEND' }),
    ],
  },
  {
    name: 'keys_only drops values; count_only drops kvs',
    steps: [put('k1', 'v'), put('k2', 'v'), get('k', { range_end: 'l', keys_only: true }), get('k', { range_end: 'l', count_only: true })],
  },
  {
    name: 'min/max mod_revision filters; count ignores filters',
    steps: [
      put('k1'), put('k2'), put('k3'), put('k1', 'again'),
      get('k', { range_end: 'l', min_mod_revision: rev(2) }),
      get('k', { range_end: 'l', max_mod_revision: rev(2) }),
      get('k', { range_end: 'l', min_mod_revision: rev(2), max_mod_revision: rev(3), limit: 1 }),
    ],
  },
  {
    name: 'min/max create_revision filters (the Mutex waiter query)',
    steps: [
      put('q/1'), put('q/2'), put('q/3'),
      get('q/', { range_end: 'q0', max_create_revision: rev(2), sort_target: 'CREATE', sort_order: 'DESCEND', limit: 1 }),
      get('q/', { range_end: 'q0', min_create_revision: rev(2) }),
    ],
  },
  {
    name: 'range at a past revision shows the state then; header is current',
    steps: [put('a', 'v1'), put('a', 'v2'), del('a'), get('a', { revision: rev(1) }), get('a', { revision: rev(2) }), get('a', { revision: rev(3) })],
  },
  {
    name: 'range at a future revision fails; revision <= 0 means latest',
    steps: [put('a', 'v'), get('a', { revision: rev(5) }), get('a', { revision: -1 }), get('a', { revision: rev(1) })],
  },
  {
    name: 'range_end before key returns nothing, no error',
    steps: [put('a'), put('b'), get('b', { range_end: 'a' }), get('b', { range_end: 'b' })],
  },
  {
    name: 'delete: count, no-op delete keeps the revision',
    steps: [put('a'), del('a'), del('a'), get('a'), put('x')],
  },
  {
    name: 'delete range with prev_kv: one revision, prev_kvs in key order',
    steps: [put('d/2', 'two'), put('d/1', 'one'), put('d/3', 'three'), del('d/', { range_end: 'd0', prev_kv: true }), get('d/', { range_end: 'd0' }), put('z')],
  },
  {
    name: 'put after delete starts a new generation: version 1, new create_revision',
    steps: [put('a', '1'), put('a', '2'), del('a'), put('a', '3'), get('a')],
  },
  {
    name: 'ignore_value keeps the value; on a missing key → key not found',
    steps: [put('a', 'keep'), put('a', '', { ignore_value: true, prev_kv: true }), get('a'), put('missing', '', { ignore_value: true })],
  },
  {
    name: 'ignore_value with a value → value is provided',
    steps: [put('a', 'v'), put('a', 'other', { ignore_value: true })],
  },
  {
    name: 'ignore_lease keeps the lease; ignore_lease with a lease → lease is provided',
    steps: [
      grant(60), put('a', 'v', { lease: lease(0) }), put('a', 'w', { ignore_lease: true }), get('a'),
      put('a', 'x', { ignore_lease: true, lease: lease(0) }), put('missing', 'x', { ignore_lease: true }),
      timeToLive(lease(0), true),
    ],
  },
  {
    name: 'empty key → key is not provided (Put, Range, DeleteRange)',
    steps: [put('', 'v'), get(''), del(''), get('', { range_end: 'z' })],
  },
  {
    name: 'request size limit: just under 1.5 MiB works, 1.5 MiB is too large, > 2 MiB is ResourceExhausted',
    steps: [
      put('big', 'x'.repeat(MAX_REQUEST_BYTES - 200)),
      put('big', 'y'.repeat(MAX_REQUEST_BYTES)),
      put('big', 'z'.repeat(3 * 1024 * 1024)),
      get('big', { keys_only: true }),
    ],
  },
  {
    name: 'binary keys sort by unsigned bytes',
    steps: [
      put(keyBytes('b', [0x01]), '01'),
      put(keyBytes('b', [0xff]), 'ff'),
      put(keyBytes('b', [0x80]), '80'),
      put('b\x7f', '7f'),
      get('b', { range_end: 'c' }),
      get('b', { range_end: 'c', sort_target: 'KEY', sort_order: 'DESCEND' }),
    ],
  },
  {
    name: 'serializable range reads the same data',
    steps: [put('a', 'v'), get('a', { serializable: true }), get('a', { serializable: true, revision: rev(1) })],
  },
  {
    name: 'from-key delete with prev_kv; count_only and limit at a past revision',
    steps: [
      put('a', '1'), put('b', '2'), put('c', '3'),
      get('a', { range_end: '\0', count_only: true, revision: rev(2) }),
      get('a', { range_end: '\0', limit: 1, revision: rev(3) }),
      del('b', { range_end: '\0', prev_kv: true }),
      get('a', { range_end: '\0', revision: rev(3), sort_target: 'VALUE', sort_order: 'DESCEND', keys_only: true }),
    ],
  },
];
