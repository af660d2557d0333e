/**
 * Owns the live segment: encodes records into the crc chain, writes each batch with one
 * write call and one fdatasync, and cuts a new segment when the live one is full. Only one
 * append runs at a time (the Wal's group-commit queue guarantees it).
 */
import * as fs from 'node:fs/promises';
import * as fsSync from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../../log';
import { failpoint, failpointAsync, failpointsEnabled } from '../../failpoints';
import type { HardState } from '../../consensus/types';
import { encodeHardState } from './codec';
import { fsyncDirectory } from './fsync-dir';
import { crcOfEncoded, encodeRecord, RecordType, RecordTypeValue } from './record';
import { SegmentName, segmentFileName, TEMP_SUFFIX } from './segment-name';

export interface RecordToWrite {
  type: RecordTypeValue;
  payload: Uint8Array;
  /** Set for entry records: the index it carries (names the next segment). */
  entryIndex?: bigint;
  /**
   * Set for snapshot markers. After an installed snapshot the log continues past it, so a
   * segment cut after the marker must be named above it, or a replay from that snapshot
   * would start after the marker and miss it.
   */
  markerIndex?: bigint;
  /** Set for hard-state records: repeated at the head of every new segment. */
  hardState?: HardState;
}

export interface WriterState {
  dir: string;
  segments: SegmentName[];
  handle: fs.FileHandle;
  sizeBytes: number;
  lastCrc: number;
  lastIndex: bigint;
  hardState: HardState;
  metadata: Uint8Array;
}

/** Encodes `records` as a chain starting from `seed`. */
export function encodeChain(records: RecordToWrite[], seed: number): { frames: Buffer[]; lastCrc: number } {
  const frames: Buffer[] = [];
  let crc = seed;
  for (const record of records) {
    const frame = encodeRecord(record.type, record.payload, crc);
    crc = crcOfEncoded(frame);
    frames.push(frame);
  }
  return { frames, lastCrc: crc };
}

/** The records every segment begins with, so it can be replayed without its predecessors. */
export function segmentHeader(metadata: Uint8Array, hardState: HardState): RecordToWrite[] {
  return [
    { type: RecordType.CrcCarry, payload: new Uint8Array(0) },
    { type: RecordType.Metadata, payload: metadata },
    { type: RecordType.HardState, payload: encodeHardState(hardState), hardState },
  ];
}

/** Writes a complete segment file atomically: temp file, fdatasync, rename, fsync dir. */
export async function writeNewSegment(dir: string, name: string, frames: Buffer[]): Promise<{ handle: fs.FileHandle; sizeBytes: number }> {
  const finalPath = path.join(dir, name);
  const tempPath = finalPath + TEMP_SUFFIX;
  const handle = await fs.open(tempPath, 'w+');
  try {
    const bytes = Buffer.concat(frames);
    await writeFully(handle, bytes, 0);
    await handle.datasync();
    await fs.rename(tempPath, finalPath);
    await fsyncDirectory(dir);
    return { handle, sizeBytes: bytes.length };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export async function writeFully(handle: fs.FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  // Bounded: each pass writes at least one byte or throws.
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    if (bytesWritten <= 0) throw new Error(`WAL write made no progress at ${position + written}`);
    written += bytesWritten;
  }
}

/** writeFully for the live segment: synchronous, bounded the same way. */
function writeFullySync(fd: number, bytes: Buffer, position: number): void {
  let written = 0;
  while (written < bytes.length) {
    const bytesWritten = fsSync.writeSync(fd, bytes, written, bytes.length - written, position + written);
    if (bytesWritten <= 0) throw new Error(`WAL write made no progress at ${position + written}`);
    written += bytesWritten;
  }
}

/** fdatasync through the callback API: one thread-pool hop, no FileHandle promise machinery. */
function fdatasyncOffLoop(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsSync.fdatasync(fd, (error) => (error === null ? resolve() : reject(error))));
}

/** An fdatasync at most this slow is cheaper inline than a thread-pool hop and two context switches. */
const INLINE_SYNC_MAX_MS = 0.5;
/** An inline fdatasync this slow sends later ones back to the thread pool: the loop must not stall. */
const INLINE_SYNC_ABANDON_MS = 2;

/** Off-loop syncs between two inline probes of the device's speed. */
const PROBE_EVERY = 64;

/**
 * Chooses where fdatasync runs. On a device with a write cache (NVMe, most VMs) it returns
 * in tens of microseconds, and running it on the event loop saves more CPU than it blocks;
 * on a slow disk it must stay off the loop so reads and heartbeats keep flowing. Off-loop
 * timings include thread-pool queueing, so the device is measured by an occasional inline
 * probe: a fast probe moves syncs inline, any slow inline sync moves them back.
 */
export class SyncPlacement {
  private inline = false;
  private sinceProbe = 0;

  async fdatasync(fd: number): Promise<void> {
    if (this.inline || ++this.sinceProbe >= PROBE_EVERY) {
      this.sinceProbe = 0;
      const started = performance.now();
      fsSync.fdatasyncSync(fd);
      const tookMs = performance.now() - started;
      if (tookMs <= INLINE_SYNC_MAX_MS) this.inline = true;
      else if (tookMs > INLINE_SYNC_ABANDON_MS) this.inline = false;
      return;
    }
    await fdatasyncOffLoop(fd);
  }

  /** Whether syncs currently run inline (for tests and logs). */
  get runsInline(): boolean {
    return this.inline;
  }
}

export class SegmentWriter {
  /** fdatasync/fsync calls made by this writer (tests check group commit with it). */
  syncCount = 0;
  private readonly syncs = new SyncPlacement();

  constructor(
    private readonly state: WriterState,
    private readonly segmentBytes: number,
    private readonly logger: Logger,
  ) {
    if (!(segmentBytes > 0)) throw new Error(`segmentBytes must be positive, got ${segmentBytes}`);
  }

  segmentPaths(): string[] {
    return this.state.segments.map((segment) => segment.path);
  }

  get segments(): SegmentName[] {
    return this.state.segments;
  }

  /**
   * Appends `records` in order; resolves once they are on disk (with `sync` false: once they
   * are written, left for a later fdatasync). Cuts segments as they fill.
   */
  async appendDurably(records: RecordToWrite[], sync = true): Promise<void> {
    let pending: Buffer[] = [];
    for (const record of records) {
      const frame = encodeRecord(record.type, record.payload, this.state.lastCrc);
      this.state.lastCrc = crcOfEncoded(frame);
      if (record.entryIndex !== undefined) this.state.lastIndex = record.entryIndex;
      if (record.markerIndex !== undefined && record.markerIndex > this.state.lastIndex) this.state.lastIndex = record.markerIndex;
      if (record.hardState !== undefined) this.state.hardState = record.hardState;
      pending.push(frame);
      this.state.sizeBytes += frame.length;
      if (this.state.sizeBytes >= this.segmentBytes) {
        await this.writeAndSync(pending, true);
        pending = [];
        await this.cut();
      }
    }
    if (pending.length > 0) await this.writeAndSync(pending, sync);
  }

  async close(): Promise<void> {
    await this.state.handle.close();
  }

  /**
   * The write goes to the page cache synchronously (microseconds; a promise round trip through
   * the thread pool cost more CPU than the write itself under load); only the fdatasync, the
   * part that waits on the disk, leaves the event loop.
   */
  private async writeAndSync(frames: Buffer[], sync: boolean): Promise<void> {
    const bytes = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    const position = this.state.sizeBytes - bytes.length;
    writeFullySync(this.state.handle.fd, bytes, position);
    if (!sync) return;
    failpoint('walBeforeFsync');
    // Only awaited when configured: the fdatasync must be on its way before save() returns,
    // so the member can apply committed entries while it runs (member.ts handleReady).
    if (failpointsEnabled()) await failpointAsync('walFsync');
    await this.syncs.fdatasync(this.state.handle.fd);
    this.syncCount++;
  }

  private async cut(): Promise<void> {
    const live = this.state.segments[this.state.segments.length - 1];
    const seq = live.seq + 1n;
    const firstIndex = this.state.lastIndex + 1n;
    const { frames, lastCrc } = encodeChain(segmentHeader(this.state.metadata, this.state.hardState), this.state.lastCrc);
    const name = segmentFileName(seq, firstIndex);
    const { handle, sizeBytes } = await writeNewSegment(this.state.dir, name, frames);
    this.syncCount += 2;
    await this.state.handle.close();
    const closedSegmentBytes = this.state.sizeBytes;
    this.state.handle = handle;
    this.state.sizeBytes = sizeBytes;
    this.state.lastCrc = lastCrc;
    this.state.segments.push({ seq, firstIndex, path: path.join(this.state.dir, name) });
    this.logger.info({ segment: name, closedSegmentBytes }, 'cut new WAL segment');
  }
}
