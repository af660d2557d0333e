import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { EtcdClient } from '../support/etcd-client';
import { startLatchkey, stopAll } from '../support/processes';
import { readAll, tempDataDir } from './helpers';

const WRITERS = 16;
const MAX_PUTS_PER_WRITER = 400;
const LOAD_BOUND_MS = 20_000;

describe('acknowledged writes survive kill -9', () => {
  const dirs: string[] = [];
  after(async () => {
    await stopAll();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every put that was acknowledged before kill -9 is there after restart', { timeout: 90_000 }, async () => {
    const dataDir = tempDataDir('crash');
    dirs.push(dataDir);
    const first = await startLatchkey({ dataDir });
    const client = new EtcdClient(first.endpoint);
    const acknowledged = new Map<string, string>();
    let killed = false;
    const startedAt = Date.now();

    // Writers put until the member dies; the kill lands while they are mid-flight.
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; i < MAX_PUTS_PER_WRITER && Date.now() - startedAt < LOAD_BOUND_MS; i++) {
        const key = `load/${w}/${i}`;
        const value = `v-${w}-${i}`;
        try {
          await client.put({ key: Buffer.from(key), value: Buffer.from(value) }, { deadlineMs: 3_000 });
          acknowledged.set(key, value);
        } catch {
          if (killed) return;
          throw new Error(`put ${key} failed before the kill`);
        }
      }
    };
    const load = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    while (acknowledged.size < 800 && Date.now() - startedAt < LOAD_BOUND_MS) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    killed = true;
    const exit = await first.kill9();
    assert.equal(exit.signal, 'SIGKILL');
    await load;
    client.close();
    assert.ok(acknowledged.size >= 800, `only ${acknowledged.size} puts were acknowledged before the kill`);

    const second = await startLatchkey({ dataDir, clientPort: first.clientPort, peerPort: first.peerPort });
    const after = new EtcdClient(second.endpoint);
    const stored = await readAll(after, 'load/');
    const missing = [...acknowledged].filter(([key, value]) => stored.get(key) !== value);
    assert.deepEqual(missing, [], `${missing.length} acknowledged writes were lost`);

    // The member goes on taking writes after recovery.
    await after.put({ key: Buffer.from('after-restart'), value: Buffer.from('yes') });
    const res = await after.range({ key: Buffer.from('after-restart') });
    assert.equal(Buffer.from(res.kvs[0].value).toString(), 'yes');
    after.close();
    const stopped = await second.stop('SIGTERM');
    assert.equal(stopped.code, 0, 'SIGTERM exits 0');
  });
});
