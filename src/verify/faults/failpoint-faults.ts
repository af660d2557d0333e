import type { Cluster, MemberHandle } from '../runner/cluster';
import { sleep, type Random } from '../runner/random';
import type { FailpointFaultKind } from './types';

/**
 * Failpoint faults (latchkey only): the member is killed, restarted with
 * LATCHKEY_FAILPOINTS armed so that it crashes itself at a chosen point of the write path
 * a few hits later (or, for slow-fsync, runs with a slow disk for a while), then restarted
 * clean on the same data dir. What the checkers then see is whether a crash at exactly that
 * point loses or invents acknowledged writes.
 */

/** The failpoint each crash kind arms (src/failpoints.ts names). */
const CRASH_POINT: Record<Exclude<FailpointFaultKind, 'slow-fsync'>, string> = {
  'crash-before-fsync': 'walBeforeFsync',
  'crash-after-fsync': 'afterFsyncBeforeApply',
  'crash-after-apply': 'afterApplyBeforeAnswer',
  'crash-during-snapshot': 'duringSnapshot',
};

/** A crash fires on hit K, K from the seed: a few hits in, so the member is mid-stream. */
const CRASH_HIT_MIN = 2;
const CRASH_HIT_MAX = 30;
const SLOW_FSYNC_MS_MIN = 50;
const SLOW_FSYNC_MS_MAX = 300;

/** The LATCHKEY_FAILPOINTS value for one fault, drawn from the seeded generator. */
export function failpointSpec(kind: FailpointFaultKind, random: Random): string {
  if (kind === 'slow-fsync') return `walFsync=sleep(${random.int(SLOW_FSYNC_MS_MIN, SLOW_FSYNC_MS_MAX)})`;
  // Snapshots are rarer (one per --snapshot-count entries): the first one after the restart.
  const hit = kind === 'crash-during-snapshot' ? 1 : random.int(CRASH_HIT_MIN, CRASH_HIT_MAX);
  return `${CRASH_POINT[kind]}=crash@${hit}`;
}

export interface FailpointFaultTiming {
  /** slow-fsync: how long the member runs with the slow disk. */
  holdMs: number;
  /** crash kinds: the bound on waiting for the member to reach its failpoint. */
  crashWaitMs: number;
}

/**
 * Applies one failpoint fault to `m` and leaves it running clean again. Returns the detail
 * for the report: the spec, and whether the member crashed at its failpoint, exited some
 * other way (worth a look in its log), or never reached it within the bound (killed).
 */
export async function applyFailpointFault(cluster: Cluster, m: MemberHandle, kind: FailpointFaultKind, spec: string, timing: FailpointFaultTiming): Promise<string> {
  await cluster.kill(m);
  cluster.restart(m, spec);
  let outcome: string;
  if (kind === 'slow-fsync') {
    await sleep(timing.holdMs);
    outcome = cluster.isRunning(m) ? `ran ${(timing.holdMs / 1000).toFixed(1)}s with it, then killed` : `exited on its own (code ${m.child?.exitCode}, signal ${m.child?.signalCode})`;
    await cluster.kill(m);
  } else if (await cluster.waitExit(m, timing.crashWaitMs)) {
    outcome = m.failpointHit !== undefined ? `crashed at ${m.failpointHit}` : `exited without reaching it (code ${m.child?.exitCode}, signal ${m.child?.signalCode})`;
  } else {
    outcome = `not reached within ${(timing.crashWaitMs / 1000).toFixed(0)}s, killed`;
    await cluster.kill(m);
  }
  cluster.restart(m);
  return `${m.name} ${spec}: ${outcome}`;
}
