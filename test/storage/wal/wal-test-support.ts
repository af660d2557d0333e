import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import type { Entry } from '../../../src/consensus/types';
import { EntryType } from '../../../src/consensus/types';
import type { Logger } from '../../../src/log';

export async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-wal-'));
  try {
    await run(path.join(root, 'wal'));
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

export function entries(firstIndex: bigint, count: number, term = 1n, label = 'v'): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const index = firstIndex + BigInt(i);
    out.push({ term, index, type: EntryType.Normal, data: Buffer.from(`${label}-${index}-${'x'.repeat(i % 7)}`) });
  }
  return out;
}

/** A pino logger that keeps every line it writes, parsed, for asserting on warnings. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

export const PINO_WARN = 40;
