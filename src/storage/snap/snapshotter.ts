/**
 * Stores Raft snapshot metadata plus a small opaque payload in `<term>-<index>.snap` files,
 * like etcd's snapshotter. Each save is atomic (temp file, fsync, rename, fsync dir); a file
 * that fails its CRC is renamed to `.broken` and the next newest is used.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from '../../log';
import type { SnapshotMetadata } from '../../consensus/types';
import { DecodeError } from '../wal/binary';
import { fsyncDirectory } from '../wal/fsync-dir';
import { decodeSnapFile, encodeSnapFile } from './snap-file';

const SNAP_PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const TEMP_SUFFIX = '.tmp';
const BROKEN_SUFFIX = '.broken';

export function snapFileName(metadata: SnapshotMetadata): string {
  return `${hex64(metadata.term)}-${hex64(metadata.index)}.snap`;
}

export class Snapshotter {
  private readonly logger: Logger;

  constructor(
    private readonly dir: string,
    logger: Logger,
  ) {
    this.logger = logger.child({ component: 'snapshotter' });
  }

  async save(metadata: SnapshotMetadata, payload: Uint8Array): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    const finalPath = path.join(this.dir, snapFileName(metadata));
    const tempPath = finalPath + TEMP_SUFFIX;
    const handle = await fsp.open(tempPath, 'w');
    try {
      await handle.writeFile(encodeSnapFile(metadata, payload));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tempPath, finalPath);
    await fsyncDirectory(this.dir);
    this.logger.info({ file: finalPath, index: metadata.index.toString(), term: metadata.term.toString() }, 'saved snapshot');
  }

  /**
   * The newest snapshot that passes its CRC (and `usable`, when given: pass one that checks
   * the WAL has a marker for it), or undefined when there is none.
   */
  async loadNewest(usable?: (metadata: SnapshotMetadata) => boolean): Promise<{ metadata: SnapshotMetadata; payload: Uint8Array } | undefined> {
    for (const name of this.list()) {
      const file = path.join(this.dir, name);
      try {
        const snapshot = decodeSnapFile(await fsp.readFile(file));
        if (snapFileName(snapshot.metadata) !== name) throw new DecodeError(`content is for ${snapFileName(snapshot.metadata)}`);
        if (usable !== undefined && !usable(snapshot.metadata)) {
          this.logger.warn({ file }, 'snapshot has no matching WAL snapshot marker; trying an older one');
          continue;
        }
        return snapshot;
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        this.logger.warn({ file, reason: error.message }, `snapshot file is damaged; renaming it to ${name}${BROKEN_SUFFIX} and trying an older one`);
        await fsp.rename(file, file + BROKEN_SUFFIX);
      }
    }
    return undefined;
  }

  /** Deletes all but the newest `keep` snap files (and leftover temp files). */
  async purge(keep: number): Promise<void> {
    if (!Number.isInteger(keep) || keep < 1) throw new Error(`Snapshotter.purge: keep must be ≥ 1, got ${keep}`);
    const doomed = this.list().slice(keep);
    const leftovers = this.names().filter((name) => name.endsWith(TEMP_SUFFIX));
    for (const name of [...doomed, ...leftovers]) await fsp.unlink(path.join(this.dir, name));
    if (doomed.length + leftovers.length > 0) {
      await fsyncDirectory(this.dir);
      this.logger.info({ deleted: doomed }, 'purged old snapshots');
    }
  }

  /** Snap file names, newest first (by term, then index). */
  list(): string[] {
    return this.names()
      .filter((name) => SNAP_PATTERN.test(name))
      .sort()
      .reverse();
  }

  private names(): string[] {
    // Directory listing is small and happens at startup or after a snapshot, not per request.
    return fs.existsSync(this.dir) ? fs.readdirSync(this.dir) : [];
  }
}

function hex64(value: bigint): string {
  if (value < 0n || value >= 1n << 64n) throw new Error(`snapshot value out of range: ${value}`);
  return value.toString(16).padStart(16, '0');
}
