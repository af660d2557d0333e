import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCpuTimes, readCpuTimes, stealPercent } from '../../benchmarks/cpu-steal';

describe('CPU steal in the results header', () => {
  test('reads steal and the total from the aggregate cpu line of /proc/stat', () => {
    const text = 'cpu  100 5 20 800 10 0 5 60 7 0\ncpu0 50 2 10 400 5 0 2 30 0 0\nintr 1 2 3\n';
    // guest time is already counted in user: the total is the first eight fields.
    assert.deepEqual(parseCpuTimes(text), { steal: 60, total: 1000 });
    assert.equal(parseCpuTimes('intr 1 2\n'), undefined);
    assert.equal(parseCpuTimes('cpu  1 2 x 4 5 6 7 8\n'), undefined);
  });

  test('the stolen share between two readings', () => {
    assert.equal(stealPercent({ steal: 60, total: 1000 }, { steal: 160, total: 1400 }), 25);
    assert.ok(Number.isNaN(stealPercent(undefined, { steal: 1, total: 2 })));
    assert.ok(Number.isNaN(stealPercent({ steal: 1, total: 2 }, { steal: 1, total: 2 })));
  });

  test('this machine reports its CPU times (Linux)', { skip: process.platform !== 'linux' ? 'no /proc/stat off Linux' : false }, () => {
    const now = readCpuTimes();
    assert.ok(now !== undefined && now.total > 0 && now.steal >= 0 && now.steal <= now.total);
  });
});
