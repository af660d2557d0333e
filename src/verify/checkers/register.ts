import type { CheckResult, RegisterInput, RegisterOperation, RegisterOutput } from '../history';
import { registerModel } from './linearizability/register-model';
import type { LinearizableOperation } from './linearizability/model';
import { searchLinearization } from './linearizability/wgl';
import { checkResult, ViolationSink } from './result';

export interface RegisterCheckOptions {
  /** Wall-clock budget for the whole history. */
  timeLimitMs?: number;
  /** Search steps allowed per key. */
  maxStepsPerKey?: number;
}

const defaultTimeLimitMs = 30_000;
const defaultMaxStepsPerKey = 20_000_000;

/**
 * Linearizability of per-key registers (read / write / cas), checked per key (registers
 * are independent, so the history is linearizable iff each key's is: P-compositionality).
 * 'fail' operations are dropped (they did not happen); unknown reads are dropped (they
 * constrain nothing); unknown writes and cas stay pending until +∞. If a key's search
 * exceeds its budget the result is 'unknown', never 'valid'.
 */
export function checkRegister(operations: readonly RegisterOperation[], options: RegisterCheckOptions = {}): CheckResult {
  const started = performance.now();
  const deadlineMs = started + (options.timeLimitMs ?? defaultTimeLimitMs);
  const maxSteps = options.maxStepsPerKey ?? defaultMaxStepsPerKey;
  const sink = new ViolationSink('register');
  const byKey = partitionByKey(operations, sink);
  let steps = 0;
  let keysUnknown = 0;
  let checked = 0;
  for (const [key, keyOperations] of byKey) {
    checked += keyOperations.length;
    const phantom = readOfUnwrittenValue(keyOperations);
    if (phantom !== undefined) {
      sink.add(
        `key ${JSON.stringify(key)} is not linearizable: #${phantom.id} ${registerModel.describe(phantom.input, phantom.output)} ` +
          'returned a value no write or cas could have written',
        [phantom.id],
      );
      continue;
    }
    const result = searchLinearization(registerModel, keyOperations, { maxSteps, deadlineMs });
    steps += result.steps;
    if (result.outcome === 'unknown') keysUnknown++;
    if (result.outcome !== 'invalid') continue;
    const byId = new Map(keyOperations.map((operation) => [operation.id, operation]));
    const describe = (id: number): string => {
      const operation = byId.get(id)!;
      return `#${id} ${registerModel.describe(operation.input, operation.output)}`;
    };
    sink.add(
      `key ${JSON.stringify(key)} is not linearizable: after linearizing ${result.longestPrefixLength} ` +
        `operation(s) (last: ${result.longestPrefix.map(describe).join(', ') || 'none'}), ` +
        `${describe(result.stuckOperation)} cannot be placed`,
      [...result.longestPrefix, result.stuckOperation],
    );
  }
  const stats = {
    operations: operations.length,
    operationsChecked: checked,
    keys: byKey.size,
    keysUnknown,
    searchSteps: steps,
    elapsedMs: Math.round(performance.now() - started),
  };
  return checkResult('register', sink.violations, stats, keysUnknown > 0);
}

function partitionByKey(
  operations: readonly RegisterOperation[],
  sink: ViolationSink,
): Map<string, LinearizableOperation<RegisterInput, RegisterOutput>[]> {
  const byKey = new Map<string, LinearizableOperation<RegisterInput, RegisterOutput>[]>();
  for (const operation of operations) {
    if (operation.status === 'fail') continue;
    const unknown = operation.status === 'unknown';
    if (unknown && operation.input.op === 'read') continue;
    if (!unknown && operation.output === undefined) {
      sink.add(`operation #${operation.id} is ok but has no output`, [operation.id]);
      continue;
    }
    if (!unknown && !(operation.endMs >= operation.startMs)) {
      sink.add(`operation #${operation.id} ends before it starts`, [operation.id]);
      continue;
    }
    let list = byKey.get(operation.input.key);
    if (list === undefined) byKey.set(operation.input.key, (list = []));
    list.push({
      id: operation.id,
      input: operation.input,
      output: unknown ? undefined : operation.output,
      startMs: operation.startMs,
      endMs: unknown ? Infinity : operation.endMs,
    });
  }
  return byKey;
}

/** Cheap pre-check: a read of a value nothing could have written needs no search. */
function readOfUnwrittenValue(
  operations: readonly LinearizableOperation<RegisterInput, RegisterOutput>[],
): LinearizableOperation<RegisterInput, RegisterOutput> | undefined {
  const written = new Set<string>();
  for (const operation of operations) {
    if (operation.input.op !== 'read') written.add(operation.input.value);
  }
  return operations.find(
    (operation) =>
      operation.input.op === 'read' &&
      operation.output !== undefined &&
      operation.output.value !== null &&
      operation.output.value !== undefined &&
      !written.has(operation.output.value),
  );
}
