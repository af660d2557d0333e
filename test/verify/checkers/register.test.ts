import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkRegister } from '../../../src/verify/checkers';
import type { RegisterInput, RegisterOperation, RegisterOutput } from '../../../src/verify/history';
import { generateRegisterHistory } from './register-history';

let nextId = 0;
function op(
  client: number,
  input: RegisterInput,
  startMs: number,
  endMs: number,
  output?: RegisterOutput,
  status: RegisterOperation['status'] = 'ok',
): RegisterOperation {
  const operation: RegisterOperation = { id: nextId++, client, input, status, startMs, endMs };
  if (output !== undefined) operation.output = output;
  return operation;
}
const write = (key: string, value: string) => ({ key, op: 'write' as const, value });
const read = (key: string) => ({ key, op: 'read' as const });
const cas = (key: string, expected: string | null, value: string) => ({ key, op: 'cas' as const, expected, value });

describe('register linearizability checker', () => {
  test('a sequential history is linearizable', () => {
    const result = checkRegister([
      op(0, read('x'), 0, 1, { value: null }),
      op(0, write('x', 'a'), 2, 3, {}),
      op(1, read('x'), 4, 5, { value: 'a' }),
      op(1, cas('x', 'a', 'b'), 6, 7, { succeeded: true }),
      op(0, read('x'), 8, 9, { value: 'b' }),
    ]);
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
    assert.equal(result.valid, true);
  });

  test('a read after a completed write that returns the old value is a violation', () => {
    const stale = op(1, read('x'), 4, 5, { value: '0' });
    const result = checkRegister([
      op(0, write('x', '0'), 0, 1, {}),
      op(0, write('x', '1'), 2, 3, {}),
      stale,
    ]);
    assert.equal(result.outcome, 'invalid');
    assert.equal(result.valid, false);
    assert.equal(result.violations.length, 1);
    assert.match(result.violations[0]!.message, /key "x" is not linearizable/);
    assert.ok(result.violations[0]!.operations!.includes(stale.id));
  });

  test('overlapping operations may take effect in either order', () => {
    // The write overlaps both reads: one sees the old value, one the new: linearizable.
    const result = checkRegister([
      op(0, write('x', 'a'), 0, 1, {}),
      op(1, write('x', 'b'), 2, 10, {}),
      op(2, read('x'), 3, 4, { value: 'a' }),
      op(3, read('x'), 5, 6, { value: 'b' }),
      op(2, read('x'), 11, 12, { value: 'b' }),
    ]);
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
  });

  test('values that go back in time across sequential reads are a violation', () => {
    // Reads 3 and 4 are sequential: after seeing b, nobody may see a again.
    const result = checkRegister([
      op(0, write('x', 'a'), 0, 1, {}),
      op(1, write('x', 'b'), 2, 10, {}),
      op(2, read('x'), 3, 4, { value: 'b' }),
      op(3, read('x'), 5, 6, { value: 'a' }),
    ]);
    assert.equal(result.outcome, 'invalid');
  });

  test('two concurrent successful cas from the same expected value is a violation', () => {
    const result = checkRegister([
      op(0, write('x', 'a'), 0, 1, {}),
      op(1, cas('x', 'a', 'b'), 2, 5, { succeeded: true }),
      op(2, cas('x', 'a', 'c'), 2, 5, { succeeded: true }),
    ]);
    assert.equal(result.outcome, 'invalid');
  });

  test('a failed cas is fine when the value differed, a violation when it matched', () => {
    const good = checkRegister([
      op(0, write('x', 'a'), 0, 1, {}),
      op(1, cas('x', 'z', 'b'), 2, 3, { succeeded: false }),
      op(1, read('x'), 4, 5, { value: 'a' }),
    ]);
    assert.equal(good.outcome, 'valid', JSON.stringify(good.violations));
    const bad = checkRegister([
      op(0, write('x', 'a'), 0, 1, {}),
      op(1, cas('x', 'a', 'b'), 2, 3, { succeeded: false }),
    ]);
    assert.equal(bad.outcome, 'invalid');
  });

  test('cas on an absent key compares with null', () => {
    const result = checkRegister([
      op(0, cas('x', null, 'a'), 0, 1, { succeeded: true }),
      op(1, cas('x', null, 'b'), 2, 3, { succeeded: false }),
      op(1, read('x'), 4, 5, { value: 'a' }),
    ]);
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
  });

  test('an unknown write may take effect late, or never', () => {
    const late = checkRegister([
      op(0, write('x', 'a'), 0, 1, {}),
      op(1, write('x', 'b'), 2, Infinity, undefined, 'unknown'),
      op(2, read('x'), 5, 6, { value: 'a' }),
      op(2, read('x'), 100, 101, { value: 'b' }),
    ]);
    assert.equal(late.outcome, 'valid', JSON.stringify(late.violations));
    const never = checkRegister([
      op(0, write('x', 'a'), 0, 1, {}),
      op(1, write('x', 'b'), 2, Infinity, undefined, 'unknown'),
      op(2, read('x'), 100, 101, { value: 'a' }),
    ]);
    assert.equal(never.outcome, 'valid', JSON.stringify(never.violations));
  });

  test('an unknown write cannot take effect before it was sent', () => {
    const result = checkRegister([
      op(0, write('x', 'a'), 0, 1, {}),
      op(2, read('x'), 2, 3, { value: 'b' }),
      op(1, write('x', 'b'), 4, Infinity, undefined, 'unknown'),
    ]);
    assert.equal(result.outcome, 'invalid');
  });

  test('a failed write did not happen, so reading its value is a violation', () => {
    const result = checkRegister([
      op(0, write('x', 'a'), 0, 1, {}),
      op(1, write('x', 'b'), 2, 3, undefined, 'fail'),
      op(2, read('x'), 4, 5, { value: 'b' }),
    ]);
    assert.equal(result.outcome, 'invalid');
  });

  test('keys are independent: a violation names its key only', () => {
    const result = checkRegister([
      op(0, write('x', 'a'), 0, 1, {}),
      op(0, write('y', 'a'), 0, 1, {}),
      op(1, read('x'), 2, 3, { value: 'a' }),
      op(1, read('y'), 2, 3, { value: null }),
    ]);
    assert.equal(result.outcome, 'invalid');
    assert.equal(result.violations.length, 1);
    assert.match(result.violations[0]!.message, /key "y"/);
    assert.equal(result.stats['keys'], 2);
  });

  test('an exhausted budget yields unknown, never valid', () => {
    const history = generateRegisterHistory({ clients: 10, keys: 1, operations: 2000, unknownFraction: 0, seed: 7 });
    const result = checkRegister(history, { maxStepsPerKey: 10 });
    assert.equal(result.outcome, 'unknown');
    assert.equal(result.valid, false);
  });

  test('generated linearizable histories pass, with unknown outcomes', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const history = generateRegisterHistory({ clients: 5, keys: 2, operations: 400, unknownFraction: 0.05, seed });
      const result = checkRegister(history);
      assert.equal(result.outcome, 'valid', `seed ${seed}: ${JSON.stringify(result.violations)}`);
    }
  });

  test('a generated history with one read of a never-written value is caught without search', () => {
    const history = generateRegisterHistory({ clients: 5, keys: 2, operations: 400, unknownFraction: 0, seed: 11 });
    const victim = history.filter((o) => o.input.op === 'read' && o.output?.value !== null)[50]!;
    victim.output = { value: 'never-written' };
    const result = checkRegister(history);
    assert.equal(result.outcome, 'invalid');
    assert.deepEqual(result.violations[0]!.operations, [victim.id]);
  });

  test('a generated history with one stale read (a long-overwritten value) is caught by the search', () => {
    for (const seed of [11, 12, 13]) {
      const history = generateRegisterHistory({ clients: 5, keys: 2, operations: 400, unknownFraction: 0.02, seed });
      const victim = history.filter((o) => o.input.op === 'read' && o.status === 'ok')[100]!;
      const firstWrite = history.find((o) => o.input.key === victim.input.key && o.input.op === 'write')!;
      assert.ok(firstWrite.input.op === 'write' && firstWrite.endMs < victim.startMs - 50, `seed ${seed}: pick an older write`);
      victim.output = { value: firstWrite.input.value };
      const result = checkRegister(history);
      assert.equal(result.outcome, 'invalid', `seed ${seed}`);
      assert.match(result.violations[0]!.message, /cannot be placed/);
    }
  });

  test('a single hot key with 10 concurrent clients (4,000 ops) checks', () => {
    const seed = 77;
    const history = generateRegisterHistory({ clients: 10, keys: 1, operations: 4000, unknownFraction: 0.01, seed });
    const result = checkRegister(history, { timeLimitMs: 30_000 });
    console.log(`register: 4,000 ops on one key, 10 clients (seed ${seed}) → ${result.outcome} in ${result.stats['elapsedMs']} ms, ${result.stats['searchSteps']} steps`);
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
  });

  test('a 60-second-like history (10 clients, 20 keys, 20,000 ops) checks within budget', () => {
    const seed = 2026;
    const history = generateRegisterHistory({ clients: 10, keys: 20, operations: 20_000, unknownFraction: 0.01, seed });
    const started = performance.now();
    const result = checkRegister(history, { timeLimitMs: 60_000 });
    const elapsedMs = performance.now() - started;
    console.log(`register: 20,000 ops / 20 keys (seed ${seed}) → ${result.outcome} in ${elapsedMs.toFixed(0)} ms, ${result.stats['searchSteps']} steps`);
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
  });
});
