import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/log';
import { AutoCompactionConfigError, AutoCompactor, parseAutoCompaction, type CompactionTarget } from '../../src/server/auto-compaction';
import { EtcdClient, RpcError } from '../support/etcd-client';
import { startLatchkey, stopAll } from '../support/processes';

/** A member stand-in: revisions advance when the test says; compactions are recorded. */
class FakeTarget implements CompactionTarget {
  revision = 1n;
  compacted = 0n;
  leader = true;
  readonly compactions: bigint[] = [];
  isLeader(): boolean {
    return this.leader;
  }
  currentRevision(): bigint {
    return this.revision;
  }
  compactedRevision(): bigint {
    return this.compacted;
  }
  async compact(revision: bigint): Promise<void> {
    this.compactions.push(revision);
    this.compacted = revision;
  }
}

describe('auto-compaction retention flags', () => {
  test('periodic takes durations or whole hours; revision takes a count; 0 disables', () => {
    assert.deepEqual(parseAutoCompaction('periodic', '1h'), { mode: 'periodic', retentionMs: 3_600_000 });
    assert.deepEqual(parseAutoCompaction('periodic', '30m'), { mode: 'periodic', retentionMs: 1_800_000 });
    assert.deepEqual(parseAutoCompaction('periodic', '72'), { mode: 'periodic', retentionMs: 72 * 3_600_000 });
    assert.deepEqual(parseAutoCompaction('revision', '1000'), { mode: 'revision', retainRevisions: 1000n });
    assert.equal(parseAutoCompaction('periodic', '0'), undefined);
    assert.equal(parseAutoCompaction('revision', '0'), undefined);
    assert.throws(() => parseAutoCompaction('revision', '1h'), AutoCompactionConfigError);
    assert.throws(() => parseAutoCompaction('weekly', '1'), AutoCompactionConfigError);
    assert.throws(() => parseAutoCompaction('periodic', 'soon'), AutoCompactionConfigError);
  });
});

describe('AutoCompactor', () => {
  test('revision mode keeps the newest N revisions, on the leader only', async () => {
    const target = new FakeTarget();
    const compactor = new AutoCompactor(target, { mode: 'revision', retainRevisions: 10n }, silentLogger(), 1000);
    target.revision = 5n;
    await compactor.check(0);
    assert.deepEqual(target.compactions, [], 'nothing to compact below the retention');
    target.revision = 25n;
    await compactor.check(1000);
    assert.deepEqual(target.compactions, [15n]);
    await compactor.check(2000);
    assert.deepEqual(target.compactions, [15n], 'no new revisions: no new compaction');
    target.leader = false;
    target.revision = 40n;
    await compactor.check(3000);
    assert.deepEqual(target.compactions, [15n], 'followers never compact');
    target.leader = true;
    await compactor.check(4000);
    assert.deepEqual(target.compactions, [15n, 30n]);
  });

  test('periodic mode compacts to the revision it saw one retention ago, once per period', async () => {
    const target = new FakeTarget();
    const compactor = new AutoCompactor(target, { mode: 'periodic', retentionMs: 10_000 }, silentLogger());
    assert.equal(compactor.checkIntervalMs, 1000);
    for (let t = 0; t <= 9_000; t += 1000) {
      target.revision = BigInt(100 + t / 1000);
      await compactor.check(t);
    }
    assert.deepEqual(target.compactions, [], 'no history is a whole retention old yet');
    target.revision = 110n;
    await compactor.check(10_000);
    assert.deepEqual(target.compactions, [100n], 'the revision sampled at t=0');
    for (let t = 11_000; t < 20_000; t += 1000) {
      target.revision = BigInt(100 + t / 1000);
      await compactor.check(t);
    }
    assert.deepEqual(target.compactions, [100n], 'at most once per period');
    target.revision = 120n;
    await compactor.check(20_000);
    assert.deepEqual(target.compactions, [100n, 110n]);
  });

  test('a refused compaction (already compacted further) is retried later, not fatal', async () => {
    const target = new FakeTarget();
    let refuse = true;
    target.compact = async (revision: bigint): Promise<void> => {
      if (refuse) {
        const { Errors } = await import('../../src/errors');
        throw Errors.compacted();
      }
      target.compactions.push(revision);
      target.compacted = revision;
    };
    const compactor = new AutoCompactor(target, { mode: 'revision', retainRevisions: 1n }, silentLogger(), 1000);
    target.revision = 10n;
    await compactor.check(0);
    assert.deepEqual(target.compactions, []);
    refuse = false;
    await compactor.check(1000);
    assert.deepEqual(target.compactions, [9n]);
  });
});

describe('--auto-compaction-mode periodic on a running member', () => {
  after(stopAll);

  test('history older than the retention is compacted away; recent revisions stay readable', async () => {
    const server = await startLatchkey({
      name: 'autocompact',
      extraArgs: ['--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '1s'],
    });
    const client = new EtcdClient(server.endpoint);
    try {
      const first = await client.put({ key: Buffer.from('k'), value: Buffer.from('v1') });
      const firstRevision = BigInt(first.header.revision as string);
      for (let i = 2; i <= 5; i += 1) await client.put({ key: Buffer.from('k'), value: Buffer.from(`v${i}`) });
      let compactedError: RpcError | undefined;
      for (let attempt = 0; attempt < 100 && compactedError === undefined; attempt += 1) {
        try {
          await client.range({ key: Buffer.from('k'), revision: String(firstRevision) });
          await new Promise((resolve) => setTimeout(resolve, 100));
        } catch (err) {
          if (!(err instanceof RpcError)) throw err;
          compactedError = err;
        }
      }
      assert.ok(compactedError !== undefined, 'the first revision was never compacted');
      assert.equal(compactedError.details, 'etcdserver: mvcc: required revision has been compacted');
      const latest = await client.range({ key: Buffer.from('k') });
      assert.equal(Buffer.from(latest.kvs[0].value).toString(), 'v5');
    } finally {
      client.close();
      await server.stop();
    }
  });

  test('a malformed retention stops the start with a clear message', async () => {
    await assert.rejects(
      startLatchkey({ name: 'badretention', extraArgs: ['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1h'] }),
      /auto-compaction-retention/,
    );
  });
});
