import { Req, Scenario, cmp, del, get, grant, lease, opDel, opGet, opPut, opTxn, put, rev, revoke, txn } from './scenario';

const puts = (count: number): Req[] => Array.from({ length: count }, (_unused, i) => opPut(`many/${String(i).padStart(3, '0')}`, 'v'));
const compares = (count: number): Req[] => Array.from({ length: count }, (_unused, i) => cmp(`c${i}`, 'VERSION', 'EQUAL', 0));

/** Txn semantics (facts §7). */
export const txnScenarios: Scenario[] = [
  {
    name: 'empty txn succeeds with no responses and no new revision',
    steps: [txn({}), put('after')],
  },
  {
    name: 'CREATE == 0 on a missing key runs success (the lock idiom)',
    steps: [
      txn({
        compare: [cmp('lock/a', 'CREATE', 'EQUAL', 0)],
        success: [opPut('lock/a', ''), opGet('lock/', { range_end: 'lock0', sort_target: 'CREATE', sort_order: 'ASCEND', limit: 1 })],
        failure: [opGet('lock/a')],
      }),
      txn({
        compare: [cmp('lock/a', 'CREATE', 'EQUAL', 0)],
        success: [opPut('lock/a', '')],
        failure: [opGet('lock/a'), opGet('lock/', { range_end: 'lock0', sort_target: 'CREATE', sort_order: 'ASCEND', limit: 1 })],
      }),
    ],
  },
  {
    name: 'VALUE compares: equal, greater, less, not-equal; missing key is always false',
    steps: [
      put('a', 'm'),
      txn({ compare: [cmp('a', 'VALUE', 'EQUAL', 'm')], success: [opGet('a')] }),
      txn({ compare: [cmp('a', 'VALUE', 'GREATER', 'a')], success: [opGet('a')] }),
      txn({ compare: [cmp('a', 'VALUE', 'LESS', 'a')], failure: [opGet('a')] }),
      txn({ compare: [cmp('missing', 'VALUE', 'NOT_EQUAL', 'x')], success: [opGet('a')], failure: [opGet('missing')] }),
      txn({ compare: [cmp('missing', 'VALUE', 'EQUAL', '')], success: [opGet('a')] }),
    ],
  },
  {
    name: 'VERSION / MOD / CREATE compares on present and missing keys',
    steps: [
      put('a', '1'), put('a', '2'),
      txn({ compare: [cmp('a', 'VERSION', 'EQUAL', 2)], success: [opGet('a')] }),
      txn({ compare: [cmp('a', 'MOD', 'GREATER', 0)], success: [opGet('a')] }),
      txn({ compare: [cmp('a', 'CREATE', 'EQUAL', rev(1))], success: [opGet('a')] }),
      txn({ compare: [cmp('missing', 'VERSION', 'EQUAL', 0)], success: [opGet('missing')] }),
      txn({ compare: [cmp('missing', 'MOD', 'LESS', 5)], success: [opGet('missing')] }),
      txn({ compare: [cmp('a', 'VERSION', 'GREATER', 5)], failure: [opGet('a')] }),
    ],
  },
  {
    name: 'compare over a range checks every key; an empty range compares as zero',
    steps: [
      put('r/1', 'x'), put('r/2', 'x'),
      txn({ compare: [cmp('r/', 'VALUE', 'EQUAL', 'x', { range_end: 'r0' })], success: [opPut('r/ok', 'all')] }),
      put('r/3', 'y'),
      txn({ compare: [cmp('r/', 'VALUE', 'EQUAL', 'x', { range_end: 'r0' })], success: [opPut('r/no', '')], failure: [opGet('r/', { range_end: 'r0', count_only: true })] }),
      txn({ compare: [cmp('e/', 'VERSION', 'GREATER', 0, { range_end: 'e0' })], success: [opPut('e/x', '')] }),
      txn({ compare: [cmp('e/', 'VERSION', 'EQUAL', 0, { range_end: 'e0' })], success: [opGet('e/', { range_end: 'e0' })] }),
    ],
  },
  {
    name: 'a failed compare with no failure ops: succeeded false, no revision',
    steps: [txn({ compare: [cmp('nope', 'VERSION', 'GREATER', 0)], success: [opPut('nope', 'x')] }), get('nope')],
  },
  {
    name: 'reads see earlier writes of the same txn; inner headers carry the revision',
    steps: [
      put('a', 'old'),
      txn({
        success: [opGet('a'), opPut('a', 'new', { prev_kv: true }), opGet('a'), opPut('b', 'b'), opGet('\0', { range_end: '\0' }), opDel('a', { prev_kv: true }), opDel('a'), opGet('a')],
      }),
      get('\0', { range_end: '\0' }),
    ],
  },
  {
    name: 'read-only txn does not bump the revision',
    steps: [put('a'), txn({ success: [opGet('a'), opGet('b')] }), put('c')],
  },
  {
    name: 'nested txn: compares are evaluated before the outer ops; nested header is empty',
    steps: [
      txn({
        success: [
          opPut('n', 'outer'),
          opTxn({ compare: [cmp('n', 'VERSION', 'EQUAL', 0)], success: [opPut('m', 'inner-success')], failure: [opPut('m', 'inner-failure')] }),
          opGet('m'),
        ],
      }),
      txn({
        success: [opTxn({ compare: [cmp('n', 'VALUE', 'EQUAL', 'outer')], success: [opGet('n'), opTxn({ success: [opGet('m')] })] })],
      }),
    ],
  },
  {
    name: '128 puts in one txn use one revision; 129 are too many',
    steps: [txn({ success: puts(128) }), get('many/', { range_end: 'many0', count_only: true }), txn({ success: puts(129) }), txn({ failure: puts(129) })],
  },
  {
    name: '129 compares are too many',
    steps: [txn({ compare: compares(128) }), txn({ compare: compares(129) })],
  },
  {
    name: 'nested txn counts against the op budget',
    steps: [
      txn({ success: [...puts(100), opTxn({ success: Array.from({ length: 28 }, (_u, i) => opGet(`g${i}`)) })] }),
      txn({ success: [...puts(127), opTxn({ success: [opPut('x', '')] })] }),
      txn({ success: [...puts(100), opTxn({ success: Array.from({ length: 29 }, (_u, i) => opGet(`g${i}`)) })] }),
    ],
  },
  {
    name: 'duplicate keys: two puts fail, put inside a delete range fails',
    steps: [
      txn({ success: [opPut('a', '1'), opPut('a', '2')] }),
      txn({ failure: [opPut('a', '1'), opPut('a', '2')] }),
      txn({ success: [opDel('a', { range_end: 'c' }), opPut('b', '')] }),
      txn({ success: [opPut('a', '1'), opTxn({ success: [opPut('a', '2')] })] }),
      get('a'),
    ],
  },
  {
    name: 'allowed repeats: same put in success and failure, overlapping deletes, range + put',
    steps: [
      put('a', '0'), put('b', '0'),
      txn({ success: [opPut('a', 's')], failure: [opPut('a', 'f')] }),
      txn({ success: [opDel('a', { range_end: 'c' }), opDel('b', { range_end: 'd' })] }),
      txn({ success: [opGet('a'), opPut('a', 'again'), opGet('a')] }),
    ],
  },
  {
    name: 'empty RequestOp → key not found; empty key in an op or compare → key is not provided',
    steps: [
      txn({ success: [{}] }),
      txn({ success: [opPut('', 'x')] }),
      txn({ failure: [opGet('')] }),
      txn({ compare: [cmp('', 'VERSION', 'EQUAL', 0)] }),
    ],
  },
  {
    name: 'missing lease: error in the branch taken, ignored in the branch not taken',
    steps: [
      txn({ compare: [cmp('x', 'VERSION', 'EQUAL', 0)], success: [opPut('a', '')], failure: [opPut('a', '', { lease: 12345 })] }),
      txn({ compare: [cmp('x', 'VERSION', 'EQUAL', 0)], success: [opPut('a', '', { lease: 12345 })] }),
      txn({ failure: [opPut('missing', '', { ignore_value: true })], success: [opPut('a', 'v2')] }),
      txn({ success: [opPut('missing', '', { ignore_value: true })] }),
      get('a'),
    ],
  },
  {
    name: 'range at a future revision fails the txn only in the branch taken',
    steps: [
      put('a', 'v'),
      txn({ failure: [opGet('a', { revision: rev(50) })], success: [opGet('a', { revision: rev(1) })] }),
      txn({ success: [opPut('b', ''), opGet('a', { revision: rev(50) })] }),
      get('b'),
    ],
  },
  {
    name: 'LEASE compare',
    steps: [
      grant(60), put('leased', 'v', { lease: lease(0) }), put('plain', 'v'),
      txn({ compare: [cmp('leased', 'LEASE', 'EQUAL', lease(0))], success: [opGet('leased')] }),
      txn({ compare: [cmp('plain', 'LEASE', 'EQUAL', 0)], success: [opGet('plain')] }),
      txn({ compare: [cmp('plain', 'LEASE', 'GREATER', 0)], failure: [opGet('plain', { keys_only: true })] }),
    ],
  },
  {
    name: 'multiple compares are ANDed',
    steps: [
      put('a', '1'), put('b', '2'),
      txn({ compare: [cmp('a', 'VALUE', 'EQUAL', '1'), cmp('b', 'VALUE', 'EQUAL', '2')], success: [opDel('a', { range_end: 'c', prev_kv: true })] }),
      put('a', '1'), put('b', '3'),
      txn({ compare: [cmp('a', 'VALUE', 'EQUAL', '1'), cmp('b', 'VALUE', 'EQUAL', '2')], success: [opDel('a', { range_end: 'c' })], failure: [opGet('a', { range_end: 'c' })] }),
      del('zzz'),
    ],
  },
  {
    name: 'leased put inside a txn; revoke deletes it; ignore_lease inside a txn',
    steps: [
      grant(60),
      txn({ success: [opPut('t/a', '1', { lease: lease(0) }), opPut('t/b', '2', { lease: lease(0), prev_kv: true })] }),
      txn({ success: [opPut('t/a', 'x', { ignore_lease: true, prev_kv: true }), opGet('t/', { range_end: 't0' })] }),
      txn({ success: [opPut('t/zz', 'x', { ignore_lease: true })] }),
      revoke(lease(0)),
      get('t/', { range_end: 't0' }),
    ],
  },
];
