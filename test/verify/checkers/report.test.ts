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
