import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_WARMUP, optionsFor, PLAN, runOrder } from '../../benchmarks/plan';

describe('bench:compare plan', () => {
  test('the cold row runs first, on the fresh cluster, and is the same load as the warm put row', () => {
    const { cold, warm } = runOrder(PLAN);
    assert.deepEqual(cold.map((p) => p.label), ['put, 64 clients, cold: right after start']);
    assert.equal(cold.length + warm.length, PLAN.length);
    // The warm rows keep the plan's order (the failover row, which kills a member, stays last).
    assert.deepEqual(warm, PLAN.filter((p) => p.phase !== 'cold'));
    assert.equal(warm.at(-1)!.kind, 'failover');
    const coldOptions = optionsFor(cold[0]!, ['127.0.0.1:2379'], 8);
    const warmOptions = optionsFor(PLAN.find((p) => p.label === 'put, 64 clients')!, ['127.0.0.1:2379'], 8);
    assert.deepEqual(coldOptions, warmOptions);
  });

  test('the cluster warm-up is the put load at 64 clients', () => {
    assert.equal(CLUSTER_WARMUP.label, 'put, 64 clients');
    assert.equal(CLUSTER_WARMUP.workload, 'put');
    assert.equal(CLUSTER_WARMUP.phase, undefined);
  });

  test('selecting rows by label keeps the cold/warm split', () => {
    const { cold, warm } = runOrder(PLAN.filter((p) => p.label.includes('lock')));
    assert.equal(cold.length, 0);
    assert.ok(warm.length > 0 && warm.every((p) => p.label.includes('lock')));
  });
});
