import { EtcdError } from '../errors';
import type { Logger } from '../log';

/** etcd's --auto-compaction-mode / --auto-compaction-retention, parsed. */
export type AutoCompactionPolicy =
  | { mode: 'periodic'; retentionMs: number }
  | { mode: 'revision'; retainRevisions: bigint };

export class AutoCompactionConfigError extends Error {
  override name = 'AutoCompactionConfigError';
}

const HOUR_MS = 3_600_000;
/** etcd's revision compactor checks every 5 minutes. */
const REVISION_CHECK_INTERVAL_MS = 5 * 60_000;
/** Samples younger than the retention the periodic compactor keeps at most (see defaultCheckIntervalMs). */
const MAX_SAMPLES = 1_024;

/**
 * `periodic` takes a duration ("1h", "30m", "90s") or an integer number of hours ("72");
 * `revision` takes the number of revisions to keep. A retention of 0 disables compaction.
 */
export function parseAutoCompaction(mode: string, retention: string): AutoCompactionPolicy | undefined {
  if (mode !== 'periodic' && mode !== 'revision') {
    throw new AutoCompactionConfigError(`--auto-compaction-mode: "${mode}" is not periodic or revision`);
  }
  const text = retention.trim();
  if (mode === 'revision') {
    if (!/^\d+$/.test(text)) throw new AutoCompactionConfigError(`--auto-compaction-retention: "${retention}" is not a number of revisions`);
    const revisions = BigInt(text);
    return revisions === 0n ? undefined : { mode, retainRevisions: revisions };
  }
  const retentionMs = /^\d+$/.test(text) ? Number(text) * HOUR_MS : durationMs(text);
  if (retentionMs === undefined) throw new AutoCompactionConfigError(`--auto-compaction-retention: "${retention}" is not a duration or hours`);
  return retentionMs === 0 ? undefined : { mode, retentionMs };
}

/** Go-style durations: 1h30m, 10m, 5s, 500ms. */
function durationMs(text: string): number | undefined {
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: HOUR_MS };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * (unitMs[p[2]!] ?? 0), 0);
}

/** What the compactor needs from the member. */
export interface CompactionTarget {
  isLeader(): boolean;
  currentRevision(): bigint;
  compactedRevision(): bigint;
  /** Proposes Compact(revision) through Raft and resolves when it is applied. */
  compact(revision: bigint): Promise<void>;
}

/**
 * etcd's auto-compactor, run on the leader only.
 * - periodic: samples the revision every tenth of the period (period = retention, at most
 *   one hour) and, once per period, compacts to the newest sample at least `retention` old,
 *   so history younger than the retention is always kept.
 * - revision: every check, compacts to current − retain when that moved past the last one.
 */
export class AutoCompactor {
  private readonly samples: { atMs: number; revision: bigint }[] = [];
  private lastCompactAtMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  readonly checkIntervalMs: number;

  constructor(
    private readonly target: CompactionTarget,
    private readonly policy: AutoCompactionPolicy,
    private readonly logger: Logger,
    checkIntervalMs?: number,
  ) {
    this.checkIntervalMs = checkIntervalMs ?? defaultCheckIntervalMs(policy);
    if (this.checkIntervalMs <= 0) throw new Error(`check interval must be positive, got ${this.checkIntervalMs}`);
  }

  start(nowMs: () => number): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.check(nowMs()), this.checkIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check; a check still waiting on its compaction makes this one a no-op. */
  async check(nowMs: number): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const revision = this.policy.mode === 'periodic' ? this.periodicTarget(nowMs) : this.revisionTarget();
      if (revision === undefined || !this.target.isLeader() || revision <= this.target.compactedRevision()) return;
      await this.target.compact(revision);
      this.lastCompactAtMs = nowMs;
      this.logger.info({ revision: revision.toString(), mode: this.policy.mode }, 'auto-compacted');
    } catch (err) {
      // Someone compacted further meanwhile, or leadership moved: the next check retries.
      if (err instanceof EtcdError) this.logger.debug({ err: err.message }, 'auto-compaction skipped');
      else this.logger.warn({ err }, 'auto-compaction failed');
    } finally {
      this.running = false;
    }
  }

  private revisionTarget(): bigint | undefined {
    if (this.policy.mode !== 'revision') throw new Error('revision target asked of a periodic compactor');
    const revision = this.target.currentRevision() - this.policy.retainRevisions;
    return revision > 0n ? revision : undefined;
  }

  private periodicTarget(nowMs: number): bigint | undefined {
    if (this.policy.mode !== 'periodic') throw new Error('periodic target asked of a revision compactor');
    const { retentionMs } = this.policy;
    this.samples.push({ atMs: nowMs, revision: this.target.currentRevision() });
    // Only the newest sample at least `retention` old matters; older ones are superseded.
    while (this.samples.length >= 2 && nowMs - this.samples[1]!.atMs >= retentionMs) this.samples.shift();
    while (this.samples.length > MAX_SAMPLES) this.samples.shift();
    const periodMs = Math.min(retentionMs, HOUR_MS);
    this.lastCompactAtMs ??= nowMs;
    if (nowMs - this.lastCompactAtMs < periodMs) return undefined;
    const oldest = this.samples[0]!;
    return nowMs - oldest.atMs >= retentionMs ? oldest.revision : undefined;
  }
}

function defaultCheckIntervalMs(policy: AutoCompactionPolicy): number {
  if (policy.mode === 'revision') return REVISION_CHECK_INTERVAL_MS;
  // A tenth of the period, but never so often that a long retention needs > ~1000 samples.
  return Math.max(10, Math.floor(Math.min(policy.retentionMs, HOUR_MS) / 10), Math.ceil(policy.retentionMs / 1000));
}
