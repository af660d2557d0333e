import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkAppend } from '../../../src/verify/checkers';
import type { AppendHistory, AppendOperation } from '../../../src/verify/history';

let nextId = 0;
function append(element: string, startMs: number, endMs: number, status: AppendOperation['status'] = 'ok', key = 'list'): AppendOperation {
  return { id: nextId++, client: 0, input: { key, op: 'append', element }, status, startMs, endMs: status === 'unknown' ? Infinity : endMs, output: {} };
}
function read(list: string[], startMs: number, endMs: number, key = 'list'): AppendOperation {
  return { id: nextId++, client: 1, input: { key, op: 'read' }, status: 'ok', startMs, endMs, output: { list } };
}

/** a, b, c appended one after another, with reads in between; d's outcome unknown and it applied. */
function validHistory(): AppendHistory {
  return {
    operations: [
      append('a', 0, 1),
      read(['a'], 2, 3),
      append('b', 4, 5),
      append('c', 4.5, 6),
      read(['a', 'b'], 5.5, 7),
      append('d', 8, 0, 'unknown'),
      append('e', 8, 9, 'fail'),
      read(['a', 'b', 'c', 'd'], 10, 11),
    ],
    finalLists: { list: ['a', 'b', 'c', 'd'] },
  };
}

function messages(history: AppendHistory): string[] {
  return checkAppend(history).violations.map((violation) => violation.message);
}

describe('append checker', () => {
  test('a valid history passes', () => {
    const result = checkAppend(validHistory());
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
    assert.equal(result.stats['appends'], 5);
  });

  test('an acknowledged append missing from the final list is lost', () => {
    const history = validHistory();
    history.finalLists['list'] = ['a', 'b', 'd'];
    const found = messages(history);
    assert.ok(found.some((m) => /append #\d+ of "c" is lost/.test(m)), found.join('\n'));
  });

  test('an element twice in the final list or in a read is a duplicate', () => {
    const history = validHistory();
    history.finalLists['list'] = ['a', 'b', 'b', 'c', 'd'];
    assert.ok(messages(history).some((m) => /"b" is duplicated in the final list/.test(m)));
    const second = validHistory();
    second.operations.push(read(['a', 'a'], 20, 21));
    assert.ok(messages(second).some((m) => /contains "a" twice/.test(m)));
  });

  test('a read that is not a prefix of the final list is a reordering', () => {
    const history = validHistory();
    history.operations.push(read(['a', 'c'], 20, 21));
    assert.ok(messages(history).some((m) => /not a prefix of the final list: position 1 is "c"/.test(m)));
  });

  test('an append completed before another began must precede it', () => {
    const history = validHistory();
    history.finalLists['list'] = ['b', 'a', 'c', 'd'];
    history.operations = history.operations.filter((operation) => operation.input.op === 'append');
    assert.ok(messages(history).some((m) => /completed before append #\d+ began, yet is ordered after it/.test(m)));
  });

  test('a failed append that took effect, or an element never appended, is a phantom', () => {
    const history = validHistory();
    history.finalLists['list'] = ['a', 'b', 'c', 'd', 'e', 'zz'];
    const found = messages(history);
    assert.ok(found.some((m) => /failed append #\d+ of "e" took effect/.test(m)), found.join('\n'));
    assert.ok(found.some((m) => /"zz" in the final list was never appended/.test(m)), found.join('\n'));
  });

  test('a read that misses a completed append, or sees less than an earlier read, is stale', () => {
    const history = validHistory();
    history.operations.push(read(['a'], 12, 13));
    const found = messages(history);
    assert.ok(found.some((m) => /misses append #\d+, which completed before the read began/.test(m)), found.join('\n'));
    assert.ok(found.some((m) => /sees less than read #\d+/.test(m)), found.join('\n'));
  });

  test('a read that sees an append begun after it completed is a violation', () => {
    const history: AppendHistory = {
      operations: [read(['a'], 0, 1), append('a', 2, 3)],
      finalLists: { list: ['a'] },
    };
    assert.ok(messages(history).some((m) => /sees append #\d+, which began after the read completed/.test(m)));
  });

  test('keys are checked independently', () => {
    const history: AppendHistory = {
      operations: [append('a', 0, 1, 'ok', 'x'), append('a', 0, 1, 'ok', 'y')],
      finalLists: { x: ['a'], y: [] },
    };
    const found = messages(history);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /key "y"/);
  });
});

describe('append checker without a final read', () => {
  test('the longest read stands in: divergent reads still fail, lost appends cannot be told', () => {
    const history = validHistory();
    history.finalLists = {};
    const result = checkAppend(history);
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
    assert.equal(result.stats['keysWithoutFinalRead'], 1);
    history.operations.push(read(['a', 'c'], 20, 21));
    assert.ok(messages(history).some((m) => /not a prefix of the final list/.test(m)));
  });
});
