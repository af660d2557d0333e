import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status as GrpcStatus, type ServerErrorResponse, type ServerReadableStream, type sendUnaryData } from '@grpc/grpc-js';
import { MessageType, type Message } from '../consensus';
import type { Logger } from '../log';
import { decodeSnapshotChunk, encodeSingleUint64 } from './codec/peer-codec';
import type { CallIdentity } from './peer-metadata';
import type { PeerHandler } from './types';

export interface SnapshotReceiverOptions {
  /** Where incoming images are written before the handler takes them. */
  directory: string;
}

function refusal(code: GrpcStatus, details: string): Partial<ServerErrorResponse> {
  return { code, details };
}

/**
 * One incoming snapshot transfer: MsgSnap chunk, data chunks, trailer, end. The image goes
 * to a temp file (with backpressure: the call pauses while the disk lags); the handler gets
 * it only after its length and sha256 match the trailer. Any failure removes the file.
 */
export class SnapshotReception {
  private message: Message | undefined;
  private file: fs.WriteStream | undefined;
  private filePath: string | undefined;
  private readonly hash = crypto.createHash('sha256');
  private receivedBytes = 0n;
  private trailerOk = false;
  private settled = false;

  constructor(
    private readonly call: ServerReadableStream<Buffer, Buffer>,
    private readonly callback: sendUnaryData<Buffer>,
    private readonly caller: CallIdentity,
    private readonly handler: PeerHandler,
    private readonly options: SnapshotReceiverOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.call.on('data', (bytes: Buffer) => {
      try {
        this.onChunk(bytes);
      } catch (err) {
        this.fail(GrpcStatus.INVALID_ARGUMENT, err instanceof Error ? err.message : String(err));
      }
    });
    this.call.on('end', () => void this.onEnd());
    this.call.on('error', () => this.fail(GrpcStatus.CANCELLED, 'snapshot call failed'));
    this.call.on('cancelled', () => this.fail(GrpcStatus.CANCELLED, 'snapshot call cancelled'));
  }

  /** Transport shutdown: drop the transfer and its file. */
  abort(): void {
    this.fail(GrpcStatus.UNAVAILABLE, 'latchkey: peer transport closed');
  }

  private onChunk(bytes: Buffer): void {
    if (this.settled) return;
    const chunk = decodeSnapshotChunk(bytes);
    if (chunk.kind === 'message') {
      if (this.message !== undefined) throw new Error('snapshot transfer with two MsgSnap chunks');
      if (chunk.message.type !== MessageType.Snap || chunk.message.snapshot === undefined) throw new Error('first snapshot chunk is not a MsgSnap');
      if (chunk.message.from !== this.caller.from || chunk.message.to !== this.caller.to) throw new Error('MsgSnap between other members than the call');
      this.message = chunk.message;
      this.openFile(chunk.message);
      return;
    }
    if (this.message === undefined || this.file === undefined) throw new Error('snapshot data before the MsgSnap chunk');
    if (this.trailerOk) throw new Error('snapshot chunk after the trailer');
    if (chunk.kind === 'data') {
      this.hash.update(chunk.data);
      this.receivedBytes += BigInt(chunk.data.length);
      if (!this.file.write(chunk.data)) {
        this.call.pause();
        this.file.once('drain', () => this.call.resume());
      }
      return;
    }
    const digest = this.hash.digest();
    if (chunk.length !== this.receivedBytes) throw new Error(`snapshot length mismatch: trailer ${chunk.length}, received ${this.receivedBytes}`);
    if (!digest.equals(chunk.sha256)) throw new Error('snapshot sha256 mismatch');
    this.trailerOk = true;
  }

  private openFile(message: Message): void {
    const suffix = crypto.randomBytes(6).toString('hex');
    const name = `latchkey-snapshot-${message.from.toString(16)}-${message.snapshot!.metadata.index}-${suffix}.tmp`;
    this.filePath = path.join(this.options.directory, name);
    this.file = fs.createWriteStream(this.filePath, { flags: 'wx' });
    this.file.on('error', (err) => this.fail(GrpcStatus.INTERNAL, `snapshot file: ${err.message}`));
  }

  private async onEnd(): Promise<void> {
    if (this.settled) return;
    if (!this.trailerOk || this.message === undefined || this.file === undefined || this.filePath === undefined) {
      this.fail(GrpcStatus.INVALID_ARGUMENT, 'snapshot transfer ended without a valid trailer');
      return;
    }
    const file = this.file;
    const filePath = this.filePath;
    try {
      await new Promise<void>((resolve, reject) => {
        file.once('error', reject);
        file.end(() => resolve());
      });
    } catch (err) {
      this.fail(GrpcStatus.INTERNAL, `snapshot file: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (this.settled) return;
    // From here the file belongs to the handler, whatever it answers.
    this.filePath = undefined;
    try {
      await this.handler.onSnapshot(this.message, filePath);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.warn({ from: this.message.from.toString(16), err: reason }, 'member refused a received snapshot');
      removeQuietly(filePath);
      this.fail(GrpcStatus.INTERNAL, `latchkey: snapshot not applied: ${reason}`);
      return;
    }
    if (this.settled) return;
    this.settled = true;
    this.logger.info({ from: this.message.from.toString(16), index: this.message.snapshot!.metadata.index.toString(), bytes: this.receivedBytes.toString() }, 'snapshot received');
    this.callback(null, encodeSingleUint64(this.receivedBytes));
  }

  private fail(code: GrpcStatus, details: string): void {
    if (this.settled) return;
    this.settled = true;
    const filePath = this.filePath;
    this.filePath = undefined;
    if (this.file !== undefined && !this.file.closed) {
      // Remove only once closed: a stream destroyed before its open completes still creates the file.
      this.file.once('close', () => filePath !== undefined && removeQuietly(filePath));
      this.file.destroy();
    } else if (filePath !== undefined) removeQuietly(filePath);
    this.logger.debug({ from: this.caller.from.toString(16), details }, 'snapshot transfer failed');
    this.callback(refusal(code, details));
  }
}

function removeQuietly(file: string): void {
  fs.rm(file, { force: true }, () => undefined);
}
