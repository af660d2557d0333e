import type { CheckResult, LockHistory, ResourceWrite } from '../history';
import { checkResult, ViolationSink } from './result';

/**
 * Fencing. By the resource's acceptance log: no accepted token lower than one accepted
 * before it, no two tokens' accepted-write intervals overlapping, every accepted token
 * issued to the holder that used it. By the holds: tokens unique, and a hold acquired
 * after another was released carries a higher token.
 */
export function checkLock(history: LockHistory): CheckResult {
  const sink = new ViolationSink('lock');
  const holderOfToken = new Map<bigint, number>();
  for (const hold of history.holds) {
    const other = holderOfToken.get(hold.token);
    if (other !== undefined) sink.add(`token ${hold.token} was issued twice (holders ${other} and ${hold.holder})`);
    else holderOfToken.set(hold.token, hold.holder);
  }
  checkAcceptanceLog(history.resourceLog, holderOfToken, sink);
  checkTokenIntervals(history.resourceLog, sink);
  checkHoldOrder(history, sink);
  const accepted = history.resourceLog.filter((write) => write.accepted).length;
  const stats = {
    holds: history.holds.length,
    writes: history.resourceLog.length,
    writesAccepted: accepted,
    writesRejected: history.resourceLog.length - accepted,
    violationsDropped: sink.dropped,
  };
  return checkResult('lock', sink.violations, stats);
}

function checkAcceptanceLog(log: ResourceWrite[], holderOfToken: Map<bigint, number>, sink: ViolationSink): void {
  let highest: ResourceWrite | undefined;
  for (const write of log) {
    if (!write.accepted) continue;
    if (highest !== undefined && write.token < highest.token) {
      sink.add(`resource accepted token ${write.token} (holder ${write.holder}) after higher token ${highest.token} (holder ${highest.holder})`);
    }
    if (holderOfToken.size > 0) {
      const holder = holderOfToken.get(write.token);
      if (holder === undefined) sink.add(`resource accepted token ${write.token}, which was never issued`);
      else if (holder !== write.holder) sink.add(`resource accepted token ${write.token} from holder ${write.holder}; it was issued to ${holder}`);
    }
    if (highest === undefined || write.token > highest.token) highest = write;
  }
}

/** Each token's accepted writes span [first, last]; two tokens' spans must not overlap. */
function checkTokenIntervals(log: ResourceWrite[], sink: ViolationSink): void {
  const spans = new Map<bigint, { token: bigint; firstMs: number; lastMs: number }>();
  for (const write of log) {
    if (!write.accepted) continue;
    const span = spans.get(write.token);
    if (span === undefined) spans.set(write.token, { token: write.token, firstMs: write.acceptedMs, lastMs: write.acceptedMs });
    else {
      span.firstMs = Math.min(span.firstMs, write.acceptedMs);
      span.lastMs = Math.max(span.lastMs, write.acceptedMs);
    }
  }
  const sorted = [...spans.values()].sort((a, b) => a.firstMs - b.firstMs);
  let previous = sorted[0];
  for (const span of sorted.slice(1)) {
    if (span.firstMs < previous!.lastMs) {
      sink.add(`holders with tokens ${previous!.token} and ${span.token} both wrote to the resource during [${span.firstMs}, ${previous!.lastMs}] ms`);
    }
    if (span.lastMs > previous!.lastMs) previous = span;
  }
}

/** A hold acquired after another was released must carry a higher token. */
function checkHoldOrder(history: LockHistory, sink: ViolationSink): void {
  const byRelease = [...history.holds].filter((hold) => Number.isFinite(hold.releasedMs)).sort((a, b) => a.releasedMs - b.releasedMs);
  const byAcquire = [...history.holds].sort((a, b) => a.acquiredMs - b.acquiredMs);
  let released = 0;
  let highestReleased: (typeof byRelease)[number] | undefined;
  for (const hold of byAcquire) {
    while (released < byRelease.length && byRelease[released]!.releasedMs < hold.acquiredMs) {
      const candidate = byRelease[released++]!;
      if (highestReleased === undefined || candidate.token > highestReleased.token) highestReleased = candidate;
    }
    if (highestReleased !== undefined && hold.token <= highestReleased.token) {
      sink.add(`holder ${hold.holder} acquired token ${hold.token} after holder ${highestReleased.holder} released higher-or-equal token ${highestReleased.token}`);
    }
  }
}
