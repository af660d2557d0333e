import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger } from '../log';
import { MvccStore } from '../storage/mvcc';
import { extractDatabase } from './snapshot-file';

/** What `etcdctl snapshot status` reports about a snapshot file. */
export interface SnapshotStatus {
  /** crc32c over the stored content (etcd's is crc32c over its buckets). */
  hash: number;
  revision: bigint;
  totalKey: number;
  totalSize: bigint;
}

export async function snapshotStatus(file: string): Promise<SnapshotStatus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-snapshot-status-'));
  try {
    const db = path.join(dir, 'snapshot.db');
    // Status reads the file as it is (etcd does not check the hash here either).
    await extractDatabase(file, db, true);
    const totalSize = BigInt(fs.statSync(db).size);
    MvccStore.installCopy(db, path.join(dir, 'db'));
    const store = MvccStore.open(path.join(dir, 'db'), { logger: silentLogger() });
    try {
      return { hash: store.hash(), revision: store.currentRevision(), totalKey: store.entryCount(), totalSize };
    } finally {
      await store.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** etcdctl's `-w json`: numbers as numbers (revision and size fit a double in practice). */
export function statusJson(status: SnapshotStatus): string {
  return `${JSON.stringify({ hash: status.hash, revision: Number(status.revision), totalKey: status.totalKey, totalSize: Number(status.totalSize) })}\n`;
}

/** etcdctl's table: HASH | REVISION | TOTAL KEYS | TOTAL SIZE. */
export function statusTable(status: SnapshotStatus): string {
  const header = ['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'];
  const row = [status.hash.toString(16).padStart(8, '0'), status.revision.toString(), String(status.totalKey), humanBytes(status.totalSize)];
  const widths = header.map((h, i) => Math.max(h.length, row[i]!.length) + 2);
  const line = `+${widths.map((w) => '-'.repeat(w)).join('+')}+\n`;
  const center = (text: string, width: number): string => {
    const left = Math.floor((width - text.length) / 2);
    return ' '.repeat(left) + text + ' '.repeat(width - text.length - left);
  };
  const cells = (values: string[], align: (text: string, width: number) => string): string =>
    `|${values.map((v, i) => align(v, widths[i]!)).join('|')}|\n`;
  const rightAligned = (text: string, width: number): string => `${' '.repeat(width - text.length - 1)}${text} `;
  return line + cells(header, center) + line + cells(row, (text, width) => (/^\d+$/.test(text) ? rightAligned(text, width) : ` ${text.padEnd(width - 1)}`)) + line;
}

/** humanize.Bytes as etcdctl prints sizes: SI units, e.g. "2.1 MB". */
export function humanBytes(bytes: bigint): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = Number(bytes);
  if (value < 10) return `${value} B`;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const text = value < 10 ? value.toFixed(1) : value.toFixed(0);
  return `${text} ${units[unit]}`;
}
