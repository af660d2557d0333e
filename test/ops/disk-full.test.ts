import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient, RpcError } from '../support/etcd-client';
import { makeTempDir, startLatchkey, stopAll } from '../support/processes';

const RESOURCE_EXHAUSTED = 8;
const NO_SPACE = 'etcdserver: mvcc: database space exceeded';
/** The file system for the data: room for the member's files and ~40 MiB more than the 64 MiB margin. */
const FILE_SYSTEM_MIB = 112;
const VALUE = Buffer.alloc(64 * 1024, 'x');
const MAX_PUTS = 3_000;
/** mount and umount block the test's event loop: bound them. */
const MOUNT_TIMEOUT_MS = 20_000;

/** Mounts a small tmpfs on `dir`; false (with the reason printed) where mounting is not allowed. */
function mountSmallFileSystem(t: TestContext, dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FILE_SYSTEM_MIB}m`, 'tmpfs', dir], { stdio: 'pipe', timeout: MOUNT_TIMEOUT_MS });
    return true;
  } catch (err) {
    const reason = `cannot mount a ${FILE_SYSTEM_MIB} MiB tmpfs here (needs root and CAP_SYS_ADMIN): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    process.stderr.write(`# skipping: ${reason}\n`);
    t.skip(reason);
    return false;
  }
}

describe('a file system that fills up under the data directory', () => {
  after(stopAll);

  test('writes are refused with NOSPACE while there is room left; the member stays up and serves reads', async (t) => {
    const mountPoint = makeTempDir('disk-full');
    if (!mountSmallFileSystem(t, mountPoint)) return;
    const server = await startLatchkey({ name: 'diskfull', dataDir: `${mountPoint}/data` });
    const client = new EtcdClient(server.endpoint);
    try {
      let refusedAfter = -1;
      for (let i = 0; i < MAX_PUTS && refusedAfter < 0; i += 1) {
        try {
          await client.put({ key: Buffer.from(`fill/${i}`), value: VALUE });
        } catch (err) {
          assert.ok(err instanceof RpcError && err.code === RESOURCE_EXHAUSTED && err.details === NO_SPACE, `put ${i} failed otherwise: ${String(err)}`);
          refusedAfter = i;
        }
      }
      assert.ok(refusedAfter > 0, `no NOSPACE after ${MAX_PUTS} puts of 64 KiB`);
      // The member did not die (a write map into a full file system would end it with SIGBUS).
      process.kill(server.pid, 0);
      const status = await client.status();
      assert.equal((status.errors as string[]).length, 1);
      assert.match((status.errors as string[])[0]!, /alarm:NOSPACE/);
      const first = await client.range({ key: Buffer.from('fill/0') });
      assert.equal((first.kvs as unknown[]).length, 1);
    } finally {
      client.close();
      await server.stop();
      execFileSync('umount', [mountPoint], { timeout: MOUNT_TIMEOUT_MS });
      fs.rmSync(mountPoint, { recursive: true, force: true });
    }
  });
});
