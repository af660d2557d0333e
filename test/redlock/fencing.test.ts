import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import RedisMock from 'ioredis-mock';
import RealRedlock from 'redlock';
import { ExecutionError, Redlock } from '../../clients/typescript/src/redlock';
import { EtcdClient } from '../support/etcd-client';
import * as path from 'node:path';
import { spawnTracked, startLatchkey, stopAll, TrackedProcess } from '../support/processes';

/**
 * What latchkey adds over Redis locks: a holder that is paused past its TTL (GC pause, VM
 * stall, SIGSTOP) wakes up believing it still holds the lock. With latchkey its writes are
 * fenced off — by a Txn guarded by its fencing token, or by a resource that remembers the
 * highest token it has seen. With redlock over Redis nothing stops the stale write.
 */

/** A storage service that accepts a write only from a token at least as high as any seen before. */
class FencingAwareResource {
  private highestToken = 0n;
  value = '';

  write(token: bigint, value: string): boolean {
    if (token < this.highestToken) return false;
    this.highestToken = token;
    this.value = value;
    return true;
  }
}

/** Lines a child prints, awaited one by one (bounded). */
class LineReader {
  private readonly lines: string[] = [];
  private partial = '';
  private wake: (() => void) | undefined;

  constructor(readonly child: TrackedProcess) {
    child.child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (this.partial + chunk.toString('utf8')).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake?.();
    });
  }

  async next(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no line from pid ${this.child.pid}; output:\n${this.child.output()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.lines.shift()!;
  }
}

/** Retry often enough, for long enough, to outlast the previous holder's lease. */
const waitForExpiry = { retryCount: 100, retryDelay: 100, retryJitter: 0 };

describe('fencing: a paused holder is fenced off (latchkey)', () => {
  let endpoint = '';
  before(async () => {
    endpoint = (await startLatchkey()).endpoint;
  });
  after(stopAll);

  test('holder A pauses past its lease; B acquires with a higher token; A\'s writes are refused', async () => {
    const processA = new Redlock(endpoint);
    const processB = new Redlock(endpoint);
    const etcd = new EtcdClient(endpoint);
    const resource = new FencingAwareResource();
    try {
      const lockA = await processA.acquire(['account-42'], 2000);
      assert.ok(lockA.fencingToken > 0n);
      assert.equal(await lockA.fencedPut('accounts/42', 'A: balance 100'), true);
      assert.equal(resource.write(lockA.fencingToken, 'A: balance 100'), true);

      // A is paused here: it stops extending and its lease lapses on the server.
      const lockB = await processB.acquire(['account-42'], 2000, waitForExpiry);
      assert.ok(lockB.fencingToken > lockA.fencingToken, `B's token ${lockB.fencingToken} > A's ${lockA.fencingToken}`);
      assert.equal(await lockB.fencedPut('accounts/42', 'B: balance 50'), true);
      assert.equal(resource.write(lockB.fencingToken, 'B: balance 50'), true);

      // A wakes up and carries on as if it still held the lock.
      assert.equal(await lockA.fencedPut('accounts/42', 'A: balance 100 (stale)'), false, 'the Txn guarded by A\'s token is refused');
      assert.equal(resource.write(lockA.fencingToken, 'A: balance 100 (stale)'), false, 'the resource refuses the lower token');
      await assert.rejects(lockA.extend(2000), ExecutionError);

      const stored = await etcd.range({ key: Buffer.from('accounts/42') });
      assert.equal(stored.kvs[0].value.toString(), 'B: balance 50');
      assert.equal(resource.value, 'B: balance 50');
      await lockB.release();
    } finally {
      etcd.close();
      await Promise.all([processA.quit(), processB.quit()]);
    }
  });

  test('a holder process frozen with SIGSTOP (auto-extension and all) is fenced off when it resumes', async () => {
    const holderA = spawnTracked(process.execPath, [path.join(__dirname, 'fixtures', 'paused-holder.js')], {
      env: { LATCHKEY_PAUSED_HOLDER_ENDPOINT: endpoint },
    });
    const fromA = new LineReader(holderA);
    const processB = new Redlock(endpoint);
    let stopped = false;
    try {
      const acquired = await fromA.next();
      assert.match(acquired, /^acquired \d+$/);
      const tokenA = BigInt(acquired.split(' ')[1]!);
      holderA.child.stdin!.write('write\n');
      assert.equal(await fromA.next(), 'write true', 'A writes while it holds the lock');

      process.kill(holderA.pid, 'SIGSTOP'); // a GC pause / VM stall: A's extension timer cannot fire
      stopped = true;
      const lockB = await processB.acquire(['ledger'], 2000, waitForExpiry);
      assert.ok(lockB.fencingToken > tokenA);
      assert.equal(await lockB.fencedPut('ledger-data', 'from B'), true);
      process.kill(holderA.pid, 'SIGCONT');
      stopped = false;

      // A resumes: its overdue extension fails and using's signal aborts; its write is refused.
      holderA.child.stdin!.write('write\n');
      const reports = [await fromA.next(), await fromA.next()].sort();
      assert.deepEqual(reports, ['aborted', 'write false']);
      holderA.child.stdin!.write('finish\n');
      assert.equal(await fromA.next(), 'done');
      await holderA.exit;
      await lockB.release();
    } finally {
      if (stopped) process.kill(holderA.pid, 'SIGCONT');
      await holderA.stop();
      await processB.quit();
    }
  });
});

describe('contrast: redlock over Redis cannot fence a paused holder', () => {
  test('A pauses past its TTL, B acquires, A\'s stale write still lands', async () => {
    const storage = new RedisMock();
    const processA = new RealRedlock([new RedisMock()]);
    const processB = new RealRedlock([new RedisMock()]);
    try {
      const lockA = await processA.acquire(['account-43'], 300);
      await storage.set('accounts:43', 'A: balance 100');

      // A is paused; its key expires (PX 300) and B takes the lock.
      const lockB = await processB.acquire(['account-43'], 300, waitForExpiry);
      await storage.set('accounts:43', 'B: balance 50');

      // A wakes: Redis has no token to compare, so the stale write overwrites B's.
      assert.equal(await storage.set('accounts:43', 'A: balance 100 (stale)'), 'OK');
      assert.equal(await storage.get('accounts:43'), 'A: balance 100 (stale)');
      // redlock's lock values are random strings: nothing orders A before B.
      assert.match(lockA.value, /^[0-9a-f]{32}$/);
      assert.match(lockB.value, /^[0-9a-f]{32}$/);
      await lockB.release();
    } finally {
      await Promise.all([processA.quit(), processB.quit(), storage.quit()]);
    }
  });
});
