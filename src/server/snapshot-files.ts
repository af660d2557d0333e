import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Database images received through InstallSnapshot, kept durably in the snap dir as
 * `<index hex>.snap.db` from the moment they arrive until LMDB has been replaced by them:
 * a crash in between finds the file at restart (as etcd keeps its `.snap.db`).
 */
export class ReceivedSnapshotFiles {
  constructor(private readonly snapDir: string) {}

  pathFor(index: bigint): string {
    return path.join(this.snapDir, `${index.toString(16).padStart(16, '0')}.snap.db`);
  }

  /** Moves a received temp file into place and makes it durable. */
  async keep(index: bigint, tempFile: string): Promise<string> {
    fs.mkdirSync(this.snapDir, { recursive: true });
    const target = this.pathFor(index);
    try {
      await fs.promises.rename(tempFile, target);
    } catch {
      // Another filesystem (tmpdir elsewhere): copy, then drop the original.
      await fs.promises.copyFile(tempFile, target);
      await fs.promises.rm(tempFile, { force: true });
    }
    const handle = await fs.promises.open(target, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    return target;
  }

  find(index: bigint): string | undefined {
    const file = this.pathFor(index);
    return fs.existsSync(file) ? file : undefined;
  }

  /** After LMDB holds a snapshot at `index` durably, its image and older ones can go. */
  removeUpTo(index: bigint): void {
    if (!fs.existsSync(this.snapDir)) return;
    for (const name of fs.readdirSync(this.snapDir)) {
      const match = /^([0-9a-f]{16})\.snap\.db$/.exec(name);
      if (match !== null && BigInt(`0x${match[1]}`) <= index) fs.rmSync(path.join(this.snapDir, name), { force: true });
    }
  }
}
