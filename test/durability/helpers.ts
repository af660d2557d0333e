import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EtcdClient } from '../support/etcd-client';

export function tempDataDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-${label}-`));
}

export function walDir(dataDir: string): string {
  return path.join(dataDir, 'member', 'wal');
}

export function snapDir(dataDir: string): string {
  return path.join(dataDir, 'member', 'snap');
}

/** WAL segment files in name order (names sort by sequence number). */
export function walSegments(dataDir: string): string[] {
  return fs.readdirSync(walDir(dataDir)).filter((f) => f.endsWith('.wal')).sort();
}

/** Every key under `prefix` with its value, read linearizably. */
export async function readAll(client: EtcdClient, prefix: string): Promise<Map<string, string>> {
  const start = Buffer.from(prefix);
  const end = Buffer.from(prefix);
  end[end.length - 1] = end[end.length - 1]! + 1;
  const res = await client.range({ key: start, range_end: end });
  const out = new Map<string, string>();
  for (const kv of (res.kvs ?? []) as Array<{ key: Buffer; value: Buffer }>) {
    out.set(Buffer.from(kv.key).toString(), Buffer.from(kv.value ?? Buffer.alloc(0)).toString());
  }
  return out;
}
