import * as fs from 'node:fs';

/** Bytes an unprivileged writer may still use on the file system holding `dir`. */
export type FreeBytes = (dir: string) => Promise<bigint>;

export const statfsFreeBytes: FreeBytes = async (dir) => {
  const stats = await fs.promises.statfs(dir, { bigint: true });
  return stats.bavail * stats.bsize;
};

/** Free space below which the member stops taking writes that grow the database. */
export const DISK_MARGIN_BYTES = 64n * 1024n * 1024n;

/**
 * Watches the free space where the data lives. The store writes through a writable memory
 * map (storage/mvcc/schema.ts): a write into a page the file system cannot allocate kills the
 * process with SIGBUS instead of failing with ENOSPC. While the free space is below the
 * margin, `onLow` is called on every check (the caller raises NOSPACE, once), so writes are
 * refused the etcd way while there is still room for the alarm itself and the member keeps
 * serving reads.
 */
export class DiskSpaceWatch {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  /** Entry bytes logged since the last check, and how many make the next check come now (see noteLogged). */
  private loggedSinceCheck = 0;
  private readonly checkAfterLoggedBytes: number;

  constructor(
    private readonly dir: string,
    private readonly onLow: (freeBytes: bigint) => void,
    private readonly onError: (err: unknown) => void,
    private readonly freeBytes: FreeBytes = statfsFreeBytes,
    private readonly marginBytes: bigint = DISK_MARGIN_BYTES,
    private readonly intervalMs = 1000,
  ) {
    if (!(intervalMs > 0)) throw new Error(`intervalMs must be positive, got ${intervalMs}`);
    this.checkAfterLoggedBytes = Number(marginBytes) / 8;
  }

  start(): void {
    if (this.timer !== undefined) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The member logged `bytes` of entries (each lands in the WAL and the store, about three
   * times over on disk). Once an eighth of the margin has been logged since the last look,
   * the next look happens now: at a few hundred writes of 64 KiB a second, a check a second
   * let the file system fill past the whole margin between two checks.
   */
  noteLogged(bytes: number): void {
    this.loggedSinceCheck += bytes;
    if (this.timer !== undefined && this.loggedSinceCheck >= this.checkAfterLoggedBytes) void this.check();
  }

  /** One look at the free space (the timer's; tests call it directly). */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    this.loggedSinceCheck = 0;
    try {
      const free = await this.freeBytes(this.dir);
      if (free < this.marginBytes) this.onLow(free);
    } catch (err) {
      // A failed statfs says nothing about the space; the next check tries again.
      this.onError(err);
    } finally {
      this.checking = false;
    }
  }
}
