import type { AppendHistory, AppendOperation, CheckResult } from '../history';
import { checkResult, ViolationSink } from './result';

/** An ok or unknown append that appears in the final list, with its position there. */
interface PlacedAppend {
  operation: AppendOperation;
  position: number;
}

/**
 * Per-key append-only lists. Objects to: lost appends (acknowledged, missing from the final
 * list), duplicated elements, phantom elements (never appended, or from a failed append),
 * reads that are not prefixes of the final list (reordering / divergence), and real-time
 * order violations (an append or read that completed before another began must not be
 * ordered after it: the append placed later, or the read seeing less).
 */
export function checkAppend(history: AppendHistory): CheckResult {
  const sink = new ViolationSink('append');
  const byKey = new Map<string, AppendOperation[]>();
  for (const key of Object.keys(history.finalLists)) byKey.set(key, []);
  for (const operation of history.operations) {
    let list = byKey.get(operation.input.key);
    if (list === undefined) byKey.set(operation.input.key, (list = []));
    list.push(operation);
  }
  let reads = 0;
  let appends = 0;
  let keysWithoutFinalRead = 0;
  for (const key of [...byKey.keys()].sort()) {
    const operations = byKey.get(key)!;
    // Without a final read (it failed), the longest read stands in: lost appends cannot be told.
    const finalList = history.finalLists[key];
    if (finalList === undefined) keysWithoutFinalRead++;
    const counts = checkKey(key, operations, finalList ?? longestRead(operations), finalList !== undefined, sink);
    reads += counts.reads;
    appends += counts.appends;
  }
  const stats = { operations: history.operations.length, keys: byKey.size, reads, appends, keysWithoutFinalRead, violationsDropped: sink.dropped };
  return checkResult('append', sink.violations, stats);
}

function checkKey(
  key: string,
  operations: AppendOperation[],
  finalList: string[],
  finalListIsComplete: boolean,
  sink: ViolationSink,
): { reads: number; appends: number } {
  const where = `key ${JSON.stringify(key)}`;
  const appendByElement = new Map<string, AppendOperation>();
  for (const operation of operations) {
    if (operation.input.op !== 'append') continue;
    const element = operation.input.element;
    const earlier = appendByElement.get(element);
    if (earlier !== undefined) throw new Error(`${where}: element ${element} appended twice (#${earlier.id}, #${operation.id}); elements must be unique`);
    appendByElement.set(element, operation);
  }
  const position = new Map<string, number>();
  finalList.forEach((element, index) => {
    if (position.has(element)) sink.add(`${where}: element ${JSON.stringify(element)} is duplicated in the final list`);
    else position.set(element, index);
  });
  const placed = checkElements(where, finalList, finalListIsComplete, position, appendByElement, sink);
  const reads = operations.filter((operation) => operation.input.op === 'read' && operation.status === 'ok');
  for (const read of reads) checkReadIsPrefix(where, read, finalList, sink);
  checkAppendRealTime(where, placed, sink);
  checkReadRealTime(where, reads, finalList, appendByElement, position, sink);
  return { reads: reads.length, appends: appendByElement.size };
}

/** Lost, phantom and failed-but-applied elements; returns the placed appends in list order. */
function checkElements(
  where: string,
  finalList: string[],
  finalListIsComplete: boolean,
  position: Map<string, number>,
  appendByElement: Map<string, AppendOperation>,
  sink: ViolationSink,
): PlacedAppend[] {
  for (const [element, operation] of appendByElement) {
    if (finalListIsComplete && operation.status === 'ok' && !position.has(element)) {
      sink.add(`${where}: acknowledged append #${operation.id} of ${JSON.stringify(element)} is lost from the final list`, [operation.id]);
    }
  }
  const placed: PlacedAppend[] = [];
  finalList.forEach((element, index) => {
    if (position.get(element) !== index) return;
    const operation = appendByElement.get(element);
    if (operation === undefined) sink.add(`${where}: element ${JSON.stringify(element)} in the final list was never appended`);
    else if (operation.status === 'fail') sink.add(`${where}: failed append #${operation.id} of ${JSON.stringify(element)} took effect`, [operation.id]);
    else placed.push({ operation, position: index });
  });
  return placed;
}

function longestRead(operations: AppendOperation[]): string[] {
  let longest: string[] = [];
  for (const operation of operations) {
    const list = operation.status === 'ok' && operation.input.op === 'read' ? operation.output?.list : undefined;
    if (list !== undefined && list.length > longest.length) longest = list;
  }
  return longest;
}

function checkReadIsPrefix(where: string, read: AppendOperation, finalList: string[], sink: ViolationSink): void {
  const list = read.output?.list;
  if (list === undefined) throw new Error(`read #${read.id} is ok but has no list`);
  const seen = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const element = list[i]!;
    if (seen.has(element)) {
      sink.add(`${where}: read #${read.id} contains ${JSON.stringify(element)} twice (duplicated append)`, [read.id]);
      return;
    }
    seen.add(element);
    if (i >= finalList.length || finalList[i] !== element) {
      sink.add(
        `${where}: read #${read.id} is not a prefix of the final list: position ${i} is ${JSON.stringify(element)}, ` +
          `final list has ${i < finalList.length ? JSON.stringify(finalList[i]) : 'nothing'} (lost or reordered append)`,
        [read.id],
      );
      return;
    }
  }
}

/** An append that completed before another began must come first in the list. */
function checkAppendRealTime(where: string, placed: PlacedAppend[], sink: ViolationSink): void {
  let latestStart: AppendOperation | undefined;
  for (const { operation } of placed) {
    if (latestStart !== undefined && operation.endMs < latestStart.startMs) {
      sink.add(
        `${where}: append #${operation.id} completed before append #${latestStart.id} began, yet is ordered after it`,
        [operation.id, latestStart.id],
      );
    }
    if (latestStart === undefined || operation.startMs > latestStart.startMs) latestStart = operation;
  }
}

/**
 * A read must include every append that completed before it began, include nothing whose
 * append began after it completed, and see at least as much as any read that completed
 * before it began. Prefix maxima keep this O(n log n).
 */
function checkReadRealTime(
  where: string,
  reads: AppendOperation[],
  finalList: string[],
  appendByElement: Map<string, AppendOperation>,
  position: Map<string, number>,
  sink: ViolationSink,
): void {
  const completedAppends = [...appendByElement.values()]
    .filter((operation) => operation.status === 'ok' && operation.input.op === 'append' && position.has(operation.input.element))
    .sort((a, b) => a.endMs - b.endMs);
  const furthestCompleted = prefixArgMax(completedAppends, (append) => (append.input.op === 'append' ? position.get(append.input.element)! : -1));
  const readsByEnd = [...reads].sort((a, b) => a.endMs - b.endMs);
  const longestCompleted = prefixArgMax(readsByEnd, (read) => read.output!.list!.length);
  // latestStartUpTo[i]: the append with the latest start among finalList[0..i].
  const latestStartUpTo: (AppendOperation | undefined)[] = [];
  let latest: AppendOperation | undefined;
  for (const element of finalList) {
    const append = appendByElement.get(element);
    if (append !== undefined && (latest === undefined || append.startMs > latest.startMs)) latest = append;
    latestStartUpTo.push(latest);
  }
  for (const read of reads) {
    const length = read.output!.list!.length;
    const before = countEndedBefore(completedAppends, read.startMs);
    if (before > 0) {
      const append = completedAppends[furthestCompleted[before - 1]!]!;
      if (append.input.op === 'append' && position.get(append.input.element)! >= length) {
        sink.add(`${where}: read #${read.id} misses append #${append.id}, which completed before the read began (stale read)`, [read.id, append.id]);
      }
    }
    const seenUpTo = Math.min(length, finalList.length) - 1;
    const latestSeen = seenUpTo >= 0 ? latestStartUpTo[seenUpTo] : undefined;
    if (latestSeen !== undefined && latestSeen.startMs > read.endMs) {
      sink.add(`${where}: read #${read.id} sees append #${latestSeen.id}, which began after the read completed`, [read.id, latestSeen.id]);
    }
    const readsBefore = countEndedBefore(readsByEnd, read.startMs);
    if (readsBefore > 0) {
      const earlier = readsByEnd[longestCompleted[readsBefore - 1]!]!;
      if (earlier.output!.list!.length > length) {
        sink.add(`${where}: read #${read.id} sees less than read #${earlier.id}, which completed before it began`, [read.id, earlier.id]);
      }
    }
  }
}

/** result[i] = index in items[0..i] of the item with the greatest measure. */
function prefixArgMax<T>(items: T[], measure: (item: T) => number): number[] {
  const result: number[] = [];
  let best = -1;
  items.forEach((item, index) => {
    if (best === -1 || measure(item) > measure(items[best]!)) best = index;
    result.push(best);
  });
  return result;
}

/** How many of `byEnd` (sorted by endMs) ended strictly before timeMs. */
function countEndedBefore(byEnd: AppendOperation[], timeMs: number): number {
  let low = 0;
  let high = byEnd.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (byEnd[middle]!.endMs < timeMs) low = middle + 1;
    else high = middle;
  }
  return low;
}
