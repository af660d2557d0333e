import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { once } from 'node:events';
import { Client, type ClientWritableStream } from '@grpc/grpc-js';
import type { Message, NodeId } from '../consensus';
import { encodeSnapshotChunk } from './codec/peer-codec';
import { identityMetadata } from './peer-metadata';
import { PeerMethod, clientOptions, passBuffer } from './peer-service';
import { peerAddressOf } from './peer-urls';
import { peerChannelCredentials, type PeerTlsSettings } from '../tls/peer-tls';

export interface SnapshotTransfer {
  message: Message;
  file: string;
  url: string;
  identity: { localId: NodeId; clusterId: bigint };
  chunkBytes: number;
  timeoutMs: number;
  /** Credentials for an https:// peer URL. */
  tls?: PeerTlsSettings;
}

/**
 * Streams one snapshot over its own client (so its own TCP connection: see clientOptions):
 * MsgSnap chunk, the file in chunks with backpressure, a sha256/length trailer. Resolves
 * once the receiver's member has taken the snapshot; rejects on any failure. `cancel`
 * aborts the transfer (transport shutdown).
 */
export class SnapshotSend {
  private readonly client: Client;
  private call: ClientWritableStream<Buffer> | undefined;
  private cancelled = false;

  constructor(private readonly transfer: SnapshotTransfer) {
    this.client = new Client(peerAddressOf(transfer.url), peerChannelCredentials(transfer.url, transfer.tls), clientOptions);
  }

  async run(): Promise<bigint> {
    const { message, identity } = this.transfer;
    const metadata = identityMetadata({ clusterId: identity.clusterId, from: identity.localId, to: message.to });
    let call!: ClientWritableStream<Buffer>;
    const response = new Promise<Buffer>((resolve, reject) => {
      call = this.client.makeClientStreamRequest(
        PeerMethod.Snapshot,
        passBuffer,
        passBuffer,
        metadata,
        { deadline: Date.now() + this.transfer.timeoutMs },
        (err, value) => (err ? reject(err) : resolve(value ?? Buffer.alloc(0))),
      );
    });
    response.catch(() => undefined); // observed below; a failure while writing must not go unhandled
    this.call = call;
    try {
      if (this.cancelled) throw new Error('snapshot transfer cancelled');
      const sentBytes = await this.writeChunks(call, response);
      await response;
      return sentBytes;
    } catch (err) {
      call.cancel(); // the receiver drops its partial file; closing the client alone would not end the call
      throw err;
    } finally {
      this.call = undefined;
      this.client.close();
    }
  }

  cancel(): void {
    this.cancelled = true;
    this.call?.cancel();
  }

  private async writeChunks(call: ClientWritableStream<Buffer>, response: Promise<Buffer>): Promise<bigint> {
    const ended = response.then(() => {
      throw new Error('receiver answered before the transfer ended');
    });
    ended.catch(() => undefined);
    const write = async (bytes: Buffer): Promise<void> => {
      if (call.write(bytes)) return;
      await Promise.race([once(call, 'drain'), ended]);
    };
    await write(encodeSnapshotChunk({ kind: 'message', message: this.transfer.message }));
    const hash = crypto.createHash('sha256');
    let length = 0n;
    const file = fs.createReadStream(this.transfer.file, { highWaterMark: this.transfer.chunkBytes });
    try {
      for await (const data of file as AsyncIterable<Buffer>) {
        if (this.cancelled) throw new Error('snapshot transfer cancelled');
        hash.update(data);
        length += BigInt(data.length);
        await write(encodeSnapshotChunk({ kind: 'data', data }));
      }
    } finally {
      file.destroy();
    }
    await write(encodeSnapshotChunk({ kind: 'trailer', sha256: hash.digest(), length }));
    call.end();
    return length;
  }
}
