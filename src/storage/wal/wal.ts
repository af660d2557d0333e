/**
 * The write-ahead log: Raft's hard state, entries and snapshot markers, appended to segment
 * files with chained CRC32C. save() calls are group-committed: while one write+fdatasync is
 * in flight, later calls queue and go out together in the next single write+fdatasync, in
 * call order. All disk I/O goes through fs/promises (the libuv pool), never the event loop.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from '../../log';
import type { Entry, HardState, SnapshotMetadata } from '../../consensus/types';
import { emptyHardState } from '../../consensus/types';
import { encodeEntry, encodeHardState, encodeSnapshotMetadata } from './codec';
import { fsyncDirectory } from './fsync-dir';
import { RecordType } from './record';
import { replaySegments, replayStart } from './replay';
import { readSnapshotMarkers } from './snapshot-markers';
import { segmentFileName, sortedSegments, TEMP_SUFFIX } from './segment-name';
import { encodeChain, RecordToWrite, segmentHeader, SegmentWriter, writeNewSegment } from './segment-writer';
import type { WalOptions, WalRecovery } from './types';

/** Bounds the group-commit queue: the member loop saves once per Ready, so this is never near. */
const MAX_QUEUED_SAVES = 100_000;

interface QueuedSave {
  records: RecordToWrite[];
  /** Whether the caller waits for the records to be on disk (false: written, synced by a later save). */
  sync: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class Wal {
  private queue: QueuedSave[] = [];
  /** True while flushLoop runs; cleared synchronously when it sees an empty queue, so no save is stranded. */
  private flushActive = false;
  private flushDone: Promise<void> = Promise.resolve();
  /** Set by the first failed write or fsync: after that the file state is unknown, so every later call fails. */
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly writer: SegmentWriter,
    private readonly logger: Logger,
  ) {}

  /** fdatasync/fsync calls made since open (group-commit tests read it). */
  get syncCount(): number {
    return this.writer.syncCount;
  }

  static exists(dir: string): boolean {
    // Startup-only check, before the server accepts requests.
    if (!fs.existsSync(dir)) return false;
    return fs.readdirSync(dir).some((name) => name.endsWith('.wal'));
  }

  /**
   * Snapshot markers a replay can start from (those at or below the saved commit index).
   * Pass `(m) => markers.some(...)` to Snapshotter.loadNewest so a crash between writing the
   * snap file and the marker cannot leave the member unable to start.
   */
  static async snapshotMarkers(dir: string): Promise<SnapshotMetadata[]> {
    return readSnapshotMarkers(dir);
  }

  static async create(dir: string, metadata: Uint8Array, options: WalOptions): Promise<Wal> {
    if (Wal.exists(dir)) throw new Error(`WAL already exists in ${dir}`);
    assertValidOptions(options);
    const logger = options.logger.child({ component: 'wal' });
    // Build the first segment in a temp directory and rename it into place, so a crash
    // during create leaves either no WAL or a complete one.
    const tempDir = dir + TEMP_SUFFIX;
    await fsp.rm(tempDir, { recursive: true, force: true });
    await fsp.mkdir(tempDir, { recursive: true });
    const hardState = emptyHardState();
    const initialMarker: SnapshotMetadata = { index: 0n, term: 0n, confState: { voters: [], learners: [] } };
    const records = [...segmentHeader(metadata, hardState), { type: RecordType.SnapshotMarker, payload: encodeSnapshotMetadata(initialMarker) }];
    const { frames, lastCrc } = encodeChain(records, 0);
    const name = segmentFileName(0n, 0n);
    const { handle, sizeBytes } = await writeNewSegment(tempDir, name, frames);
    try {
      await removeEmptyDirectory(dir); // a non-empty one without segments is someone else's: rmdir refuses
      await fsp.rename(tempDir, dir);
      await fsyncDirectory(path.dirname(path.resolve(dir)));
    } catch (error) {
      await handle.close();
      throw error;
    }
    const segments = [{ seq: 0n, firstIndex: 0n, path: path.join(dir, name) }];
    const state = { dir, segments, handle, sizeBytes, lastCrc, lastIndex: 0n, hardState, metadata: Uint8Array.prototype.slice.call(metadata) };
    logger.info({ dir }, 'created WAL');
    return new Wal(dir, new SegmentWriter(state, options.segmentBytes, logger), logger);
  }

  static async open(dir: string, from: SnapshotMetadata | undefined, options: WalOptions): Promise<{ wal: Wal; recovery: WalRecovery }> {
    assertValidOptions(options);
    const logger = options.logger.child({ component: 'wal' });
    const names = await fsp.readdir(dir);
    const allSegments = sortedSegments(dir, names);
    if (allSegments.length === 0) throw new Error(`no WAL segments in ${dir}`);
    const segments = allSegments.slice(replayStart(allSegments, from));
    const replay = await replaySegments(segments, from);
    const metadata = replay.recovery.metadata;
    if (metadata === undefined) throw new Error(`WAL in ${dir} has no metadata record`);
    const live = segments[segments.length - 1];
    if (replay.torn !== undefined) {
      const { offset, reason, fileBytes } = replay.torn;
      logger.warn({ file: live.path, offset, droppedBytes: fileBytes - offset, reason }, 'repairing torn WAL tail: truncating to the last complete record');
    }
    const handle = await fsp.open(live.path, 'r+');
    try {
      if (replay.torn !== undefined) {
        await handle.truncate(replay.lastSegmentValidBytes);
        await handle.datasync();
      }
      await removeTempFiles(dir, names);
    } catch (error) {
      await handle.close();
      throw error;
    }
    const state = {
      dir,
      segments: allSegments.slice(), // every segment on disk, so releaseBefore can delete older ones
      handle,
      sizeBytes: replay.lastSegmentValidBytes,
      lastCrc: replay.lastCrc,
      lastIndex: replay.lastIndex,
      hardState: replay.recovery.hardState,
      metadata,
    };
    logger.info({ dir, segments: allSegments.length, entries: replay.recovery.entries.length, from: from?.index.toString() }, 'opened WAL');
    return { wal: new Wal(dir, new SegmentWriter(state, options.segmentBytes, logger), logger), recovery: replay.recovery };
  }

  /**
   * Appends a hard state and entries. With `sync` false (etcd's raft.MustSync says no: only
   * the commit index moved) the records reach the page cache but no fdatasync is spent on
   * them; the next synced save makes them durable with everything before it. A commit index
   * lost in a crash is learnt again from the leader, and re-applying is skipped by the
   * state machine's consistent index.
   */
  save(hardState: HardState | undefined, entries: Entry[], sync = true): Promise<void> {
    const records: RecordToWrite[] = [];
    if (hardState !== undefined) records.push({ type: RecordType.HardState, payload: encodeHardState(hardState), hardState: { ...hardState } });
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      if (i > 0 && entry.index !== entries[i - 1].index + 1n) {
        throw new Error(`Wal.save: entries not contiguous (${entries[i - 1].index} then ${entry.index})`);
      }
      records.push({ type: RecordType.Entry, payload: encodeEntry(entry), entryIndex: entry.index });
    }
    return this.enqueue(records, sync);
  }

  saveSnapshotMarker(snapshot: SnapshotMetadata): Promise<void> {
    return this.enqueue([{ type: RecordType.SnapshotMarker, payload: encodeSnapshotMetadata(snapshot), markerIndex: snapshot.index }]);
  }

  /** Deletes segments whose every entry index is < `index`; the segment a replay from `index` starts at, and the live one, stay. */
  async releaseBefore(index: bigint): Promise<void> {
    this.assertUsable();
    const segments = this.writer.segments;
    let keepFrom = 0;
    for (let i = 0; i < segments.length; i++) if (segments[i].firstIndex <= index) keepFrom = i;
    if (keepFrom === 0) return;
    // Removed from the list before unlinking: a cut only ever appends to it.
    const released = segments.splice(0, keepFrom);
    for (const segment of released) await fsp.unlink(segment.path);
    await fsyncDirectory(this.dir);
    this.logger.info({ index: index.toString(), deleted: released.map((s) => path.basename(s.path)) }, 'released WAL segments');
  }

  segmentFiles(): string[] {
    return this.writer.segmentPaths();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Bounded: the queue only shrinks once closed is set (enqueue refuses).
    while (this.flushActive) await this.flushDone;
    await this.writer.close();
    this.logger.info({ dir: this.dir }, 'closed WAL');
  }

  private enqueue(records: RecordToWrite[], sync = true): Promise<void> {
    try {
      this.assertUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.queue.length >= MAX_QUEUED_SAVES) return Promise.reject(new Error(`WAL queue full (${MAX_QUEUED_SAVES} saves)`));
    const done = new Promise<void>((resolve, reject) => this.queue.push({ records, sync, resolve, reject }));
    if (!this.flushActive) {
      this.flushActive = true;
      this.flushDone = this.flushLoop();
    }
    return done;
  }

  /**
   * Drains the queue one batch at a time; each batch is one write and one fdatasync.
   * flushActive is cleared in the same synchronous step that finds the queue empty: a save
   * made by a caller resuming from the last batch must start a new loop, not wait for this one.
   */
  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.flushBatch();
    } finally {
      this.flushActive = false;
    }
  }

  private async flushBatch(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (this.failure !== undefined) {
      for (const save of batch) save.reject(this.failure);
      return;
    }
    try {
      await this.writer.appendDurably(
        batch.flatMap((save) => save.records),
        batch.some((save) => save.sync),
      );
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.logger.error({ err: this.failure }, 'WAL write failed; the WAL accepts no more writes');
      for (const save of batch) save.reject(this.failure);
      return;
    }
    for (const save of batch) save.resolve();
  }

  private assertUsable(): void {
    if (this.closed) throw new Error('WAL is closed');
    if (this.failure !== undefined) throw this.failure;
  }
}

async function removeTempFiles(dir: string, names: string[]): Promise<void> {
  const leftovers = names.filter((name) => name.endsWith(TEMP_SUFFIX));
  for (const name of leftovers) await fsp.unlink(path.join(dir, name));
}

async function removeEmptyDirectory(dir: string): Promise<void> {
  try {
    await fsp.rmdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function assertValidOptions(options: WalOptions): void {
  if (!Number.isSafeInteger(options.segmentBytes) || options.segmentBytes <= 0) {
    throw new Error(`WAL segmentBytes must be a positive integer, got ${options.segmentBytes}`);
  }
}
