import type { CheckResult, KvEvent, WatcherLog, WatchHistory } from '../history';
import { rangeContains } from './key-range';
import { checkResult, ViolationSink } from './result';

function eventId(event: KvEvent): string {
  return `${event.revision}/${event.key}`;
}

function describe(event: KvEvent): string {
  return `${event.type} ${JSON.stringify(event.key)}@${event.revision}`;
}

/**
 * Every watcher, across reconnects, must receive exactly the authoritative events of its
 * range from its start revision through its until revision: each once, in the store's
 * order, with the store's content. Events below a reported compaction revision may be
 * missing (etcd cancels compacted watches); nothing else may.
 */
export function checkWatch(history: WatchHistory): CheckResult {
  const sink = new ViolationSink('watch');
  const order = new Map<string, number>();
  history.authoritative.forEach((event, index) => {
    const id = eventId(event);
    if (order.has(id)) throw new Error(`authoritative history repeats ${describe(event)}`);
    if (index > 0 && event.revision < history.authoritative[index - 1]!.revision) {
      throw new Error(`authoritative history is not in revision order at ${describe(event)}`);
    }
    order.set(id, index);
  });
  let eventsReceived = 0;
  let reconnects = 0;
  let excused = 0;
  for (const watcher of history.watchers) {
    const counts = checkWatcher(watcher, history.authoritative, order, sink);
    eventsReceived += counts.received;
    reconnects += counts.reconnects;
    excused += counts.excused;
  }
  const stats = {
    watchers: history.watchers.length,
    authoritativeEvents: history.authoritative.length,
    eventsReceived,
    reconnects,
    eventsExcusedByCompaction: excused,
    violationsDropped: sink.dropped,
  };
  return checkResult('watch', sink.violations, stats);
}

function checkWatcher(
  watcher: WatcherLog,
  authoritative: KvEvent[],
  order: Map<string, number>,
  sink: ViolationSink,
): { received: number; reconnects: number; excused: number } {
  const who = `watcher ${watcher.watcher}`;
  const inScope = (event: KvEvent): boolean =>
    rangeContains(watcher.range, event.key) && event.revision >= watcher.startRevision && event.revision <= watcher.untilRevision;
  const seen = new Set<string>();
  let lastIndex = -1;
  let received = 0;
  let reconnects = 0;
  // Authoritative indexes below which missing events are excused by a compaction.
  const excusedRanges: { fromIndex: number; belowRevision: bigint }[] = [];
  for (const record of watcher.records) {
    if (record.kind === 'reconnect') {
      reconnects++;
      continue;
    }
    if (record.kind === 'compacted') {
      excusedRanges.push({ fromIndex: lastIndex + 1, belowRevision: record.compactRevision });
      continue;
    }
    const event = record.event;
    if (event.revision > watcher.untilRevision) continue;
    received++;
    if (!rangeContains(watcher.range, event.key)) {
      sink.add(`${who} received ${describe(event)} outside its range`);
      continue;
    }
    if (event.revision < watcher.startRevision) {
      sink.add(`${who} received ${describe(event)} before its start revision ${watcher.startRevision}`);
      continue;
    }
    const id = eventId(event);
    const index = order.get(id);
    if (index === undefined) {
      sink.add(`${who} received ${describe(event)}, which the store never had`);
      continue;
    }
    const truth = authoritative[index]!;
    if (truth.type !== event.type || (truth.type === 'put' && truth.value !== event.value)) {
      sink.add(`${who} received ${describe(event)} with value ${JSON.stringify(event.value)}; the store has ${describe(truth)} = ${JSON.stringify(truth.value)}`);
    }
    if (seen.has(id)) {
      sink.add(`${who} received ${describe(event)} twice`);
      continue;
    }
    seen.add(id);
    if (index < lastIndex) sink.add(`${who} received ${describe(event)} out of order (after ${describe(authoritative[lastIndex]!)})`);
    lastIndex = Math.max(lastIndex, index);
  }
  let excused = 0;
  let missed = 0;
  authoritative.forEach((event, index) => {
    if (!inScope(event) || seen.has(eventId(event))) return;
    if (excusedRanges.some((range) => index >= range.fromIndex && event.revision < range.belowRevision)) {
      excused++;
      return;
    }
    missed++;
    if (missed <= 5) sink.add(`${who} missed ${describe(event)}`);
  });
  if (missed > 5) sink.add(`${who} missed ${missed - 5} more event(s)`);
  return { received, reconnects, excused };
}
