/**
 * How much a snapshot's sync writes back per put once the database is large. Every snapshot
 * syncs the pages dirtied since the last one; if that grows with the database, so does the
 * pause each snapshot puts on the WAL's fsyncs, and put latency climbs the longer a cluster
 * takes writes. The count comes from the kernel (/proc/self/io write_bytes: bytes this
 * process sent towards the disk, counted as pages are dirtied), so it holds on any disk.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { openTestStore, putReq } from './helpers';
import type { MvccStore } from '../../../src/storage/mvcc';

const IO_FILE = '/proc/self/io';
const KEY_SPACE = 100_000;
/** Puts before measuring: with 256-byte values the database is ~130 MB by then. */
const LOAD_PUTS = 300_000;
const LOAD_BATCH = 500;
const MEASURED_PUTS = 10_000;
/** The apply batch a member commits under load (one LMDB transaction each). */
const MEASURED_BATCH = 12;
/**
 * A random put rewrites a leaf in `latest` and in `keyIndex` plus its share of branch pages,
 * and appends to `history`: 2.8 KiB measured here. When `latest` held whole values (layout
 * 1, ~300-byte entries instead of ~40) the same puts wrote back 4.9 KiB each;
 * with readahead on the map as well, the page cache held the file in large folios and they
 * wrote back 13 KiB each at this size, more as the file grows.
 */
const MAX_BYTES_PER_PUT = 4 * 1024;

function bytesWritten(): number | undefined {
  const match = /write_bytes:\s+(\d+)/.exec(fs.readFileSync(IO_FILE, 'utf8'));
  return match === null ? undefined : Number(match[1]);
}

function skipReason(): string | false {
  try {
    return bytesWritten() === undefined ? `${IO_FILE} has no write_bytes` : false;
  } catch (error) {
    return `${IO_FILE} unreadable (${(error as Error).message})`;
  }
}

const VALUE = 'v'.repeat(256);

/** Puts in whole batches of `batch` until at least `count`; returns how many it made. */
function putRandomKeys(store: MvccStore, count: number, batch: number, random: () => number): number {
  let done = 0;
  for (; done < count; done += batch) {
    store.write((writer) => {
      for (let i = 0; i < batch; i++) {
        const key = `key-${String(Math.floor(random() * KEY_SPACE)).padStart(6, '0')}`;
        writer.put(putReq(key, VALUE), () => false);
      }
    });
  }
  return done;
}

/** A seeded generator, so a failure repeats with the same keys. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const skip = skipReason();
if (skip !== false) process.stdout.write(`# writeback test skipped: ${skip}\n`);

describe('snapshot write-back of a large store', { skip }, () => {
  it('writes back about a page per random put, not the page cache folios around it', async (t) => {
    const opened = openTestStore();
    try {
      const random = seededRandom(7);
      putRandomKeys(opened.store, LOAD_PUTS, LOAD_BATCH, random);
      await opened.store.flushed();
      const before = bytesWritten()!;
      const revisionBefore = opened.store.currentRevision();
      const puts = putRandomKeys(opened.store, MEASURED_PUTS, MEASURED_BATCH, random);
      await opened.store.flushed();
      const perPut = (bytesWritten()! - before) / puts;
      // The bound below only means something if the puts happened and reached the disk.
      assert.equal(opened.store.currentRevision() - revisionBefore, BigInt(puts));
      assert.ok(perPut > 0, `the kernel counted no bytes written back for ${puts} puts`);
      const databaseMb = Number(opened.store.dbSizeInUseBytes()) / 1e6;
      t.diagnostic(`${(perPut / 1024).toFixed(1)} KiB written back per put at a ${databaseMb.toFixed(0)} MB database`);
      assert.ok(
        perPut <= MAX_BYTES_PER_PUT,
        `each random put wrote back ${(perPut / 1024).toFixed(1)} KiB at a ${databaseMb.toFixed(0)} MB database (at most ${MAX_BYTES_PER_PUT / 1024} KiB expected)`,
      );
    } finally {
      await opened.cleanup();
    }
  });
});
