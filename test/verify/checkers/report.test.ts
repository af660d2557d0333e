import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLease, checkRegister, renderReport } from '../../../src/verify/checkers';

test('the report has a row per checker and lists violations', () => {
  const register = checkRegister([]);
  const lease = checkLease({ leases: [{ leaseId: 1n, keys: ['k'], keptAlive: true }], finalKeys: {} });
  const report = renderReport([register, lease]);
  assert.match(report, /^\| checker \| result \| violations \| stats \|/);
  assert.match(report, /\| register \| ✅ valid \| 0 \|/);
  assert.match(report, /\| lease \| ❌ invalid \| 1 \|/);
  assert.match(report, /### lease: 1 violation\(s\)\n- key "k" of kept-alive lease 1 vanished/);
});

test('a history with bigints and Infinity survives JSON and re-checks the same', async () => {
  const { checkLock, historyFromJson, historyToJson } = await import('../../../src/verify/checkers');
  const history = {
    holds: [{ holder: 1, token: 12345678901234567n, acquiredMs: 0, releasedMs: Infinity }],
    resourceLog: [{ holder: 1, token: 12345678901234567n, acceptedMs: 1, accepted: true }],
  };
  const restored = historyFromJson<typeof history>(historyToJson(history));
  assert.deepEqual(restored, history);
  assert.deepEqual(checkLock(restored), checkLock(history));
});
