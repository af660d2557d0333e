import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EtcdClient } from '../support/etcd-client';
import { startLatchkey, stopAll } from '../support/processes';
import { readAll, tempDataDir, walDir, walSegments } from './helpers';

function digestDir(dir: string): string {
  const hash = createHash('sha256');
  for (const name of fs.readdirSync(dir).sort()) hash.update(name).update(fs.readFileSync(path.join(dir, name)));
  return hash.digest('hex');
}

async function populate(endpoint: string, count: number): Promise<void> {
  const client = new EtcdClient(endpoint);
  for (let i = 0; i < count; i++) {
    await client.put({ key: Buffer.from(`k/${String(i).padStart(4, '0')}`), value: Buffer.from(`value-${i}`) });
  }
  client.close();
}

describe('a damaged WAL', () => {
  const dirs: string[] = [];
  after(async () => {
    await stopAll();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a torn tail is repaired at start and every acknowledged write is kept', { timeout: 60_000 }, async () => {
    const dataDir = tempDataDir('torn');
    dirs.push(dataDir);
    const first = await startLatchkey({ dataDir });
    await populate(first.endpoint, 50);
    assert.equal((await first.stop('SIGTERM')).code, 0);

    // A crash in the middle of a write leaves a partial record at the end of the last segment.
    const segments = walSegments(dataDir);
    const last = path.join(walDir(dataDir), segments[segments.length - 1]!);
    fs.appendFileSync(last, Buffer.from([0x30, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03]));

    const second = await startLatchkey({ dataDir });
    const client = new EtcdClient(second.endpoint);
    const stored = await readAll(client, 'k/');
    assert.equal(stored.size, 50);
    assert.equal(stored.get('k/0049'), 'value-49');
    await client.put({ key: Buffer.from('k/after'), value: Buffer.from('repaired') });
    assert.equal((await readAll(client, 'k/')).get('k/after'), 'repaired');
    client.close();
    assert.match(second.output(), /torn|repair|truncat/i, 'the repair is logged');
    await second.stop('SIGTERM');
  });

  test('a flipped byte in the middle of a segment stops the member with file and offset, touching nothing', { timeout: 60_000 }, async () => {
    const dataDir = tempDataDir('flip');
    dirs.push(dataDir);
    const first = await startLatchkey({ dataDir });
    await populate(first.endpoint, 200);
    assert.equal((await first.stop('SIGTERM')).code, 0);

    const segments = walSegments(dataDir);
    const file = path.join(walDir(dataDir), segments[0]!);
    const bytes = fs.readFileSync(file);
    const offset = Math.floor(bytes.length / 2);
    bytes[offset] = bytes[offset]! ^ 0xff;
    fs.writeFileSync(file, bytes);
    const before = digestDir(walDir(dataDir));

    const second = await startLatchkey({ dataDir, readiness: 'none' });
    const exit = await second.waitExit();
    assert.notEqual(exit.code, 0, 'the member refuses to start');
    assert.ok(second.output().includes(file) || second.output().includes(segments[0]!), `the message names the file:\n${second.output()}`);
    assert.match(second.output(), /offset/i, 'the message names the offset');
    assert.equal(digestDir(walDir(dataDir)), before, 'no WAL file was changed');
  });
});
