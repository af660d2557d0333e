import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { groupQueues, LocksSnapshot, parseQueueKey } from '../../src/cli/locks-scan';
import { toJson, toTable } from '../../src/cli/locks-format';
import type { StoredKey } from '../../src/cli/locks-rpc';

function stored(key: string, createRevision: bigint, leaseId: bigint, value = ''): StoredKey {
  return { key: Buffer.from(key), value: Buffer.from(value), createRevision, modRevision: createRevision, leaseId };
}

describe('locks: recognising queue keys', () => {
  test('a key named after the lease it carries (hex, as Go clients write it) is a queue key', () => {
    assert.deepEqual(parseQueueKey(stored('jobs/nightly/694d9a3b1c2d0a11', 5n, 0x694d9a3b1c2d0a11n)), {
      name: 'jobs/nightly',
      leaseId: 0x694d9a3b1c2d0a11n,
    });
  });

  test('decimal lease suffixes (etcd3 npm elections) count too', () => {
    assert.equal(parseQueueKey(stored('election/el1/1353509910998852404', 5n, 1353509910998852404n))?.name, 'election/el1');
  });

  test('ordinary keys are not: no lease, another lease, no suffix', () => {
    assert.equal(parseQueueKey(stored('config/abc', 3n, 0n)), undefined);
    assert.equal(parseQueueKey(stored('cache/abc', 3n, 0x123n)), undefined);
    assert.equal(parseQueueKey(stored('abc', 3n, 0xabcn)), undefined);
    assert.equal(parseQueueKey(stored('name/', 3n, 0xabcn)), undefined);
  });

  test('queues are grouped by name and ordered by create revision (the holder first)', () => {
    const queues = groupQueues([
      stored('b/2a', 9n, 0x2an),
      stored('a/1f', 12n, 0x1fn),
      stored('a/0e', 7n, 0x0en),
      stored('a/plain', 8n, 0n),
      stored('a/3c', 10n, 0x3cn),
    ]);
    assert.deepEqual([...queues.keys()], ['a', 'b']);
    assert.deepEqual(
      queues.get('a')!.map((entry) => entry.key),
      ['a/0e', 'a/3c', 'a/1f'],
    );
  });
});

describe('locks: output', () => {
  const snapshot: LocksSnapshot = {
    revision: 42n,
    locks: [
      {
        name: 'jobs/nightly',
        kind: 'lock',
        holder: { key: 'jobs/nightly/a1', leaseId: 0xa1n, createRevision: 7n, value: '' },
        holderTtlSeconds: 6n,
        holderGrantedTtlSeconds: 10n,
        waiters: [{ key: 'jobs/nightly/b2', leaseId: 0xb2n, createRevision: 9n, value: '' }],
      },
    ],
  };

  test('the table shows the holder with its fencing token and TTL, then the waiters in order', () => {
    const lines = toTable(snapshot).trimEnd().split('\n');
    assert.equal(lines[0], '1 locks and elections at revision 42');
    assert.match(lines[1]!, /^NAME\s+KIND\s+ROLE\s+LEASE\s+REVISION\s+TTL\s+VALUE$/);
    assert.match(lines[2]!, /^jobs\/nightly\s+lock\s+holder\s+a1\s+7\s+6s\/10s$/);
    assert.match(lines[3]!, /^jobs\/nightly\s+lock\s+waiter 1\s+b2\s+9\s+-$/);
  });

  test('JSON spells 64-bit numbers as strings and lease ids in hex', () => {
    const json = toJson(snapshot);
    assert.equal(json.revision, '42');
    assert.deepEqual(json.locks[0]!.holder, {
      key: 'jobs/nightly/a1',
      leaseId: 'a1',
      fencingToken: '7',
      heldSinceRevision: '7',
      ttlSeconds: '6',
      grantedTtlSeconds: '10',
      value: '',
    });
    assert.deepEqual(json.locks[0]!.waiters, [{ position: 1, key: 'jobs/nightly/b2', leaseId: 'b2', createRevision: '9', value: '' }]);
  });

  test('no queues: one line saying so', () => {
    assert.equal(toTable({ revision: 3n, locks: [] }), 'no locks or elections at revision 3\n');
  });
});
