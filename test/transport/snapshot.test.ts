import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { MessageType, newMessage, type Message, type NodeId } from '../../src/consensus';
import { encodeSnapshotChunk } from '../../src/transport/codec/peer-codec';
import { identityMetadata } from '../../src/transport/peer-metadata';
import { PeerMethod, passBuffer } from '../../src/transport/peer-service';
import { freePorts } from '../support/ports';
import { closeAll, heartbeat, makeMember, startMembers, type TestMember } from './harness';

const SNAPSHOT_BYTES = 20 * 1024 * 1024;

let workDir: string;
let imageFile: string;
let imageSha256: string;

before(async () => {
  workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'latchkey-transport-snap-'));
  imageFile = path.join(workDir, 'image.bin');
  const image = crypto.randomBytes(SNAPSHOT_BYTES);
  imageSha256 = crypto.createHash('sha256').update(image).digest('hex');
  await fs.promises.writeFile(imageFile, image);
});

after(async () => {
  await fs.promises.rm(workDir, { recursive: true, force: true });
});

function snapMessage(from: NodeId, to: NodeId): Message {
  return newMessage({
    type: MessageType.Snap,
    from,
    to,
    term: 4n,
    snapshot: { data: Buffer.from('{"consistentIndex":"9000"}'), metadata: { index: 9000n, term: 4n, confState: { voters: [from, to], learners: [77n] } } },
  });
}

async function receiveDir(name: string): Promise<string> {
  const dir = path.join(workDir, name);
  await fs.promises.mkdir(dir);
  return dir;
}

describe('snapshot pipeline', () => {
  test('a 20 MB snapshot streams intact while heartbeats keep flowing', async (t) => {
    const incoming = await receiveDir('incoming-ok');
    const members = await startMembers([1n, 2n], { snapshotDirectory: incoming, snapshotChunkBytes: 64 * 1024 });
    const [a, b] = members as [TestMember, TestMember];
    let commit = 0n;
    const ticker = setInterval(() => a.transport.send([heartbeat(1n, 2n, ++commit)]), 2);
    try {
      await b.handler.waitFor('heartbeats flowing', () => b.handler.messages.length > 0);
      const heartbeatsAtStart = b.handler.messages.length;
      let heartbeatsAtArrival = -1;
      const take = b.handler.takeSnapshot;
      b.handler.takeSnapshot = async (message, file) => {
        heartbeatsAtArrival = b.handler.messages.length;
        assert.equal(path.dirname(file), incoming);
        await take(message, file);
      };
      const startedMs = Date.now();
      a.transport.sendSnapshot(snapMessage(1n, 2n), imageFile);
      await a.handler.waitFor('snapshot status', () => a.handler.snapshotStatuses.length > 0, 30_000);
      clearInterval(ticker);
      t.diagnostic(`${heartbeatsAtArrival - heartbeatsAtStart} heartbeats arrived during the ${Date.now() - startedMs} ms transfer`);

      assert.deepEqual(a.handler.snapshotStatuses, [{ peer: 2n, ok: true }]);
      assert.equal(b.handler.snapshots.length, 1);
      const received = b.handler.snapshots[0]!;
      assert.equal(received.bytes.length, SNAPSHOT_BYTES);
      assert.equal(crypto.createHash('sha256').update(received.bytes).digest('hex'), imageSha256);
      assert.equal(received.message.type, MessageType.Snap);
      assert.equal(received.message.snapshot?.metadata.index, 9000n);
      assert.deepEqual(received.message.snapshot?.metadata.confState, { voters: [1n, 2n], learners: [77n] });
      assert.equal(Buffer.from(received.message.snapshot!.data).toString(), '{"consistentIndex":"9000"}');

      const duringTransfer = heartbeatsAtArrival - heartbeatsAtStart;
      assert.ok(duringTransfer >= 3, `${duringTransfer} heartbeats arrived while the snapshot was in flight`);
      // Heartbeats stayed in order across the transfer.
      const commits = b.handler.messages.map((m) => m.commit);
      assert.deepEqual(commits, [...commits].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
      assert.deepEqual(await fs.promises.readdir(incoming), []);
    } finally {
      clearInterval(ticker);
      await closeAll(members);
    }
  });

  test('a member that refuses the snapshot makes the send fail, and the temp file goes away', async () => {
    const incoming = await receiveDir('incoming-refused');
    const members = await startMembers([1n, 2n], { snapshotDirectory: incoming });
    const [a, b] = members as [TestMember, TestMember];
    try {
      b.handler.takeSnapshot = async () => {
        throw new Error('applying snapshot failed: disk full');
      };
      a.transport.sendSnapshot(snapMessage(1n, 2n), imageFile);
      await a.handler.waitFor('snapshot status', () => a.handler.snapshotStatuses.length > 0, 30_000);
      assert.deepEqual(a.handler.snapshotStatuses, [{ peer: 2n, ok: false }]);
      await b.handler.waitFor('temp file removed', () => fs.readdirSync(incoming).length === 0);
    } finally {
      await closeAll(members);
    }
  });

  test('a missing file fails the send; a second transfer to a busy peer fails at once', async () => {
    const incoming = await receiveDir('incoming-missing');
    const members = await startMembers([1n, 2n], { snapshotDirectory: incoming });
    const [a, b] = members as [TestMember, TestMember];
    try {
      a.transport.sendSnapshot(snapMessage(1n, 2n), path.join(workDir, 'no-such-file'));
      await a.handler.waitFor('snapshot status', () => a.handler.snapshotStatuses.length === 1);
      assert.deepEqual(a.handler.snapshotStatuses, [{ peer: 2n, ok: false }]);

      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let handedOver = false;
      const take = b.handler.takeSnapshot;
      b.handler.takeSnapshot = async (message, file) => {
        handedOver = true;
        await released;
        await take(message, file);
      };
      a.transport.sendSnapshot(snapMessage(1n, 2n), imageFile);
      a.transport.sendSnapshot(snapMessage(1n, 2n), imageFile);
      await a.handler.waitFor('the refused second transfer', () => a.handler.snapshotStatuses.length === 2);
      assert.deepEqual(a.handler.snapshotStatuses[1], { peer: 2n, ok: false });
      await b.handler.waitFor('the first transfer handed over', () => handedOver, 30_000);
      assert.equal(a.handler.snapshotStatuses.length, 2, 'no ack before the member has taken the snapshot');
      release();
      await a.handler.waitFor('the first transfer acknowledged', () => a.handler.snapshotStatuses.length === 3, 30_000);
      assert.deepEqual(a.handler.snapshotStatuses[2], { peer: 2n, ok: true });
      await b.handler.waitFor('temp dir empty', () => fs.readdirSync(incoming).length === 0);
    } finally {
      await closeAll(members);
    }
  });

  test('a snapshot to a peer that is down fails', async () => {
    const [portA, portB] = (await freePorts(2)) as [number, number];
    const a = makeMember(1n, portA);
    try {
      await a.transport.start([a.url]);
      a.transport.setPeers([{ id: 2n, peerUrls: [`http://127.0.0.1:${portB}`] }]);
      a.transport.sendSnapshot(snapMessage(1n, 2n), imageFile);
      await a.handler.waitFor('snapshot status', () => a.handler.snapshotStatuses.length > 0);
      assert.deepEqual(a.handler.snapshotStatuses, [{ peer: 2n, ok: false }]);
    } finally {
      await a.transport.close();
    }
  });

  test('a transfer whose bytes do not match the trailer is refused and leaves no file', async () => {
    const incoming = await receiveDir('incoming-corrupt');
    const members = await startMembers([1n, 2n], { snapshotDirectory: incoming });
    const [, b] = members as [TestMember, TestMember];
    const client = new Client(b.url.replace('http://', ''), credentials.createInsecure());
    try {
      const error = await new Promise<{ code: number; details: string } | null>((resolve) => {
        const call = client.makeClientStreamRequest(
          PeerMethod.Snapshot,
          passBuffer,
          passBuffer,
          identityMetadata({ clusterId: 0x1234n, from: 1n, to: 2n }),
          {},
          (err) => resolve(err),
        );
        call.write(encodeSnapshotChunk({ kind: 'message', message: snapMessage(1n, 2n) }));
        call.write(encodeSnapshotChunk({ kind: 'data', data: Buffer.from('actual bytes') }));
        call.write(encodeSnapshotChunk({ kind: 'trailer', sha256: crypto.createHash('sha256').update('other bytes').digest(), length: 12n }));
        call.end();
      });
      assert.equal(error?.code, GrpcStatus.INVALID_ARGUMENT);
      assert.match(error?.details ?? '', /sha256 mismatch/);
      assert.equal(b.handler.snapshots.length, 0);
      await b.handler.waitFor('temp file removed', () => fs.readdirSync(incoming).length === 0);
    } finally {
      client.close();
      await closeAll(members);
    }
  });
});
