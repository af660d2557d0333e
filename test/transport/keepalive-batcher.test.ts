import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { KeepAliveBatcher, MAX_KEEPALIVE_BATCH } from '../../src/transport/keepalive-batcher';
import { PeerCallError } from '../../src/transport/unary-call';
import { decodeInt64List, encodeSingleUint64, encodeUint64List } from '../../src/transport/codec/peer-codec';

/** A fake leader link whose calls the test answers by hand. */
function manualLink() {
  const calls: { leader: bigint; ids: bigint[]; answer: (ttls: bigint[]) => void; fail: (err: unknown) => void }[] = [];
  const send = (leader: bigint, ids: bigint[]) =>
    new Promise<bigint[]>((answer, fail) => calls.push({ leader, ids, answer, fail }));
  return { calls, send };
}

const never = new AbortController().signal;

describe('keepalive batcher', () => {
  test('forwards gathered while a batch is out go together, each caller gets its own TTL', async () => {
    const link = manualLink();
    const batcher = new KeepAliveBatcher(link.send);
    const results = Array.from({ length: 10 }, (_u, i) => batcher.forward(7n, BigInt(i + 1), never));
    assert.deepEqual(link.calls.map((c) => c.ids), [[1n]], 'one batch on the wire; the rest wait');
    link.calls[0]!.answer([10n]);
    assert.equal(await results[0], 10n);
    assert.deepEqual(link.calls[1]!.ids, [2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n], 'the waiting nine travel in one call');
    assert.equal(link.calls[1]!.leader, 7n);
    link.calls[1]!.answer([20n, 30n, 40n, 50n, 60n, 70n, 80n, 90n, 0n]);
    assert.deepEqual(await Promise.all(results), [10n, 20n, 30n, 40n, 50n, 60n, 70n, 80n, 90n, 0n]);
  });

  test('a failed batch fails every caller in it with its error; an abort fails only its caller', async () => {
    const link = manualLink();
    const batcher = new KeepAliveBatcher(link.send);
    const controller = new AbortController();
    const first = batcher.forward(1n, 1n, never);
    const second = batcher.forward(1n, 2n, never);
    const third = batcher.forward(1n, 3n, controller.signal);
    const fourth = batcher.forward(1n, 4n, never);
    controller.abort();
    await assert.rejects(third, (err: PeerCallError) => err.code === GrpcStatus.CANCELLED);
    link.calls[0]!.fail(new PeerCallError('etcdserver: not leader', GrpcStatus.FAILED_PRECONDITION));
    await assert.rejects(first, /not leader/);
    assert.deepEqual(link.calls[1]!.ids, [2n, 4n], 'the aborted caller is not sent');
    link.calls[1]!.answer([5n, 6n]);
    assert.equal(await second, 5n);
    assert.equal(await fourth, 6n);
  });

  test('an answer with the wrong count fails the batch rather than mixing up TTLs', async () => {
    const link = manualLink();
    const batcher = new KeepAliveBatcher(link.send);
    const pending = [batcher.forward(1n, 1n, never), batcher.forward(1n, 2n, never), batcher.forward(1n, 3n, never)];
    link.calls[0]!.answer([1n]);
    assert.equal(await pending[0], 1n);
    link.calls[1]!.answer([3n, 4n, 5n]);
    await assert.rejects(pending[1]!, (err: PeerCallError) => err.code === GrpcStatus.INTERNAL);
    await assert.rejects(pending[2]!, (err: PeerCallError) => err.code === GrpcStatus.INTERNAL);
  });

  test('batches are capped', async () => {
    const link = manualLink();
    const batcher = new KeepAliveBatcher(link.send);
    const all = Array.from({ length: 1 + MAX_KEEPALIVE_BATCH + 5 }, (_u, i) => batcher.forward(1n, BigInt(i), never));
    link.calls[0]!.answer([0n]);
    await all[0];
    assert.equal(link.calls[1]!.ids.length, MAX_KEEPALIVE_BATCH);
    link.calls[1]!.answer(link.calls[1]!.ids);
    await all[1];
    assert.equal(link.calls[2]!.ids.length, 5);
    link.calls[2]!.answer(link.calls[2]!.ids);
    const values = await Promise.all(all);
    assert.deepEqual(values, Array.from({ length: values.length }, (_u, i) => BigInt(i)));
  });

  test('the list codec: zeros and negative TTLs survive; one value is the single-value encoding', () => {
    assert.deepEqual(decodeInt64List(encodeUint64List([0n, -1n, 5n, 2n ** 63n - 1n])), [0n, -1n, 5n, 2n ** 63n - 1n]);
    assert.deepEqual(encodeUint64List([42n]), encodeSingleUint64(42n));
  });
});
