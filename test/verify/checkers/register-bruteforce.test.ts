import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRegister } from '../../../src/verify/checkers';
import type { RegisterInput, RegisterOperation, RegisterValue } from '../../../src/verify/history';
import { seededRandom } from './register-history';

/** Every order consistent with real time, each unknown operation in it or left out. */
function bruteForceLinearizable(history: RegisterOperation[]): boolean {
  const operations = history.filter((o) => o.status !== 'fail' && !(o.status === 'unknown' && o.input.op === 'read'));
  const used = new Array<boolean>(operations.length).fill(false);
  const apply = (state: RegisterValue, operation: RegisterOperation): RegisterValue | 'impossible' => {
    const input = operation.input;
    if (input.op === 'read') return operation.output!.value === state ? state : 'impossible';
    if (input.op === 'write') return input.value;
    const holds = state === input.expected;
    if (operation.status === 'unknown') return holds ? input.value : state;
    if (operation.output!.succeeded === true) return holds ? input.value : 'impossible';
    return holds ? 'impossible' : state;
  };
  const search = (state: RegisterValue): boolean => {
    if (operations.every((o, i) => used[i] || o.status === 'unknown')) return true;
    for (let i = 0; i < operations.length; i++) {
      if (used[i]) continue;
      const candidate = operations[i]!;
      // Every unplaced known operation that ended before this one started must go first.
      const blocked = operations.some((o, j) => !used[j] && j !== i && o.status === 'ok' && o.endMs < candidate.startMs);
      if (blocked) continue;
      const after = apply(state, candidate);
      if (after === 'impossible') continue;
      used[i] = true;
      const found = search(after);
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(null);
}

function randomHistory(random: () => number): RegisterOperation[] {
  const count = 1 + Math.floor(random() * 6);
  const values = ['a', 'b', 'c'];
  const pick = (): string => values[Math.floor(random() * values.length)]!;
  const history: RegisterOperation[] = [];
  for (let id = 0; id < count; id++) {
    const startMs = Math.floor(random() * 10);
    const endMs = startMs + Math.floor(random() * 5);
    const roll = random();
    let input: RegisterInput;
    if (roll < 0.45) input = { key: 'x', op: 'read' };
    else if (roll < 0.75) input = { key: 'x', op: 'write', value: pick() };
    else input = { key: 'x', op: 'cas', expected: random() < 0.2 ? null : pick(), value: pick() };
    const statusRoll = random();
    const status = statusRoll < 0.15 ? 'unknown' : statusRoll < 0.2 ? 'fail' : 'ok';
    const operation: RegisterOperation = { id, client: id, input, status, startMs, endMs: status === 'unknown' ? Infinity : endMs };
    if (status === 'ok') {
      if (input.op === 'read') operation.output = { value: random() < 0.2 ? null : pick() };
      else if (input.op === 'cas') operation.output = { succeeded: random() < 0.5 };
      else operation.output = {};
    }
    history.push(operation);
  }
  return history;
}

test('the WGL search agrees with brute force on 3,000 small random histories', () => {
  const seed = 424242;
  const random = seededRandom(seed);
  let linearizable = 0;
  for (let round = 0; round < 3000; round++) {
    const history = randomHistory(random);
    const expected = bruteForceLinearizable(history);
    const result = checkRegister(history);
    assert.notEqual(result.outcome, 'unknown');
    assert.equal(result.valid, expected, `seed ${seed}, round ${round}: ${JSON.stringify(history)}`);
    if (expected) linearizable++;
  }
  // Both outcomes must be well represented, or the comparison proves little.
  assert.ok(linearizable > 300 && linearizable < 2700, `linearizable: ${linearizable}`);
});
