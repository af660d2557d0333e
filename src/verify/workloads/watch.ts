import type { KvEvent, WatcherLog, WatchHistory, WatchRange } from '../history';
import { checkWatchHistory } from '../runner/checkers-adapter';
import type { Random } from '../runner/random';
import { sleep } from '../runner/random';
import { prefixEnd, type EtcdRpc, type Wire } from '../runner/rpc';
import { FAILURE_BACKOFF_MS, THINK_MS, type Workload, type WorkloadDeps, type WorkloadResult } from './types';

/**
 * watch: even workers write (Put of unique values to a few keys under the prefix); odd
 * workers watch the whole prefix from the revision at which they started, reconnecting
 * (from the last revision seen + 1) whenever the stream breaks. Watchers keep running after
 * the workload stops, until `finish` has the final revision and every watcher reached it.
 * The authoritative history is a watch from revision 1 over the prefix.
 */
const KEYS = 6;
const DRAIN_TIMEOUT_MS = 15_000;
const MAX_RECORDS_PER_WATCHER = 200_000;
/** A watch stream is re-opened at least this often, so a silent stream never blocks the run. */
const STREAM_MAX_MS = 5_000;

interface WatcherState {
  log: WatcherLog;
  lastRevision: bigint;
  done: Promise<void>;
}

function toEvent(e: Wire): KvEvent {
  const type = e.type === 'DELETE' || e.type === 1 ? 'delete' : 'put';
  const kv = e.kv as Wire;
  const event: KvEvent = { revision: BigInt(kv.mod_revision), key: (kv.key as Buffer).toString('utf8'), type };
  if (type === 'put') event.value = (kv.value as Buffer).toString('utf8');
  return event;
}

/** Reads one watch stream until it ends; calls onEvents per response. Resolves with the stream's end reason. */
function followStream(rpc: EtcdRpc, prefix: string, from: bigint, onResponse: (response: Wire) => boolean, maxMs = STREAM_MAX_MS): Promise<string> {
  return new Promise((resolve) => {
    const stream = rpc.openWatch(prefix, from);
    let finished = false;
    const timer = setTimeout(() => end('time bound'), maxMs);
    const end = (reason: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      stream.cancel();
      resolve(reason);
    };
    stream.on('data', (response: Wire) => {
      if (!onResponse(response)) end('stopped');
    });
    stream.on('error', (error: Error) => end(error.message));
    stream.on('end', () => end('ended'));
  });
}

export class WatchWorkload implements Workload {
  readonly name = 'watch';
  private readonly watchers: WatcherState[] = [];
  private writes = 0;
  /** Set by finish: watchers stop once they reached it (and finish stops waiting at a bound). */
  private untilRevision: bigint | undefined;
  private abandon = false;

  constructor(private readonly deps: WorkloadDeps) {}

  private get prefix(): string {
    return `${this.deps.prefix}watch/`;
  }

  async runWorker(worker: number, rpc: EtcdRpc, random: Random, stopped: () => boolean): Promise<void> {
    if (worker % 2 === 1) {
      await this.startWatcher(worker, rpc);
      return;
    }
    const recorder = this.deps.recorder;
    let client = recorder.newClient();
    for (let n = 0; n < this.deps.maxOpsPerWorker && !stopped(); n++) {
      const key = `${this.prefix}k${random.int(0, KEYS - 1)}`;
      const value = `v${this.writes++}`;
      const op = await recorder.run(this.name, client, { key, value }, `put ${key}`, false, () => rpc.put(key, value));
      if (op.status === 'unknown') client = recorder.newClient();
      await sleep(op.status === 'ok' ? THINK_MS : FAILURE_BACKOFF_MS);
    }
  }

  private async startWatcher(worker: number, rpc: EtcdRpc): Promise<void> {
    let startRevision: bigint | undefined;
    for (let attempt = 0; attempt < 50 && startRevision === undefined; attempt++) {
      try {
        startRevision = (await rpc.range(this.prefix, { prefix: true })).revision + 1n;
      } catch {
        await sleep(FAILURE_BACKOFF_MS);
      }
    }
    if (startRevision === undefined) return;
    const range: WatchRange = { key: this.prefix, rangeEnd: prefixEnd(this.prefix).toString('utf8') };
    const log: WatcherLog = { watcher: worker, range, startRevision, untilRevision: 0n, records: [] };
    const state: WatcherState = { log, lastRevision: startRevision - 1n, done: Promise.resolve() };
    state.done = this.follow(state, rpc);
    this.watchers.push(state);
  }

  private reached(state: WatcherState): boolean {
    return this.abandon || (this.untilRevision !== undefined && state.lastRevision >= this.untilRevision);
  }

  private async follow(state: WatcherState, rpc: EtcdRpc): Promise<void> {
    const clock = this.deps.recorder.clock;
    for (let round = 0; round < 10_000 && !this.reached(state); round++) {
      const from = state.lastRevision + 1n;
      if (round > 0) state.log.records.push({ kind: 'reconnect', resumeFromRevision: from, atMs: clock.now() });
      await followStream(rpc, this.prefix, from, (response) => {
        if (response.canceled === true && BigInt(response.compact_revision ?? 0) > 0n) {
          const compactRevision = BigInt(response.compact_revision);
          state.log.records.push({ kind: 'compacted', compactRevision, atMs: clock.now() });
          state.lastRevision = compactRevision - 1n;
          return false;
        }
        for (const e of (response.events ?? []) as Wire[]) {
          const event = toEvent(e);
          if (state.log.records.length < MAX_RECORDS_PER_WATCHER) state.log.records.push({ kind: 'event', event, atMs: clock.now() });
          state.lastRevision = event.revision;
        }
        return !this.reached(state);
      });
      if (!this.reached(state)) await sleep(FAILURE_BACKOFF_MS * 2);
    }
  }

  async finish(rpc: EtcdRpc): Promise<WorkloadResult> {
    // The last revision that touched the prefix (only puts happen here, so it is the highest
    // mod revision): other workloads move the store revision without events for watchers.
    const kvs = (await rpc.range(this.prefix, { prefix: true })).kvs;
    const untilRevision = kvs.reduce((max, kv) => (kv.modRevision > max ? kv.modRevision : max), 0n);
    this.untilRevision = untilRevision;
    const drained = await Promise.race([
      Promise.all(this.watchers.map((w) => w.done)).then(() => true),
      sleep(DRAIN_TIMEOUT_MS).then(() => false),
    ]);
    this.abandon = true;
    for (const w of this.watchers) w.log.untilRevision = untilRevision;
    const authoritative: KvEvent[] = [];
    let last = 0n;
    for (let round = 0; round < 20 && last < untilRevision; round++) {
      await followStream(rpc, this.prefix, last + 1n, (response) => {
        for (const e of (response.events ?? []) as Wire[]) {
          const event = toEvent(e);
          if (event.revision <= untilRevision) authoritative.push(event);
          last = event.revision;
        }
        return last < untilRevision;
      });
    }
    const history: WatchHistory = { watchers: this.watchers.map((w) => w.log), authoritative };
    const check = checkWatchHistory(history);
    if (!drained) check.stats.watchersNotDrained = this.watchers.filter((w) => w.lastRevision < untilRevision).length;
    return { history, checks: [check] };
  }
}
