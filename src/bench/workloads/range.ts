import { encodeKey, keyNumber, makeValue } from '../keys';
import type { WorkloadFactory } from './types';

/** Writes the whole key space first (bounded) so ranges find values, as a loaded store would. */
const MAX_PRELOADED_KEYS = 10_000;
const PRELOAD_CONCURRENCY = 32;

/** `range`: one single-key Range per operation, linearizable or serializable (--consistency). */
export const rangeWorkload: WorkloadFactory = async (options, pool) => {
  const value = makeValue(options.valSize);
  const preload = Math.min(options.keySpaceSize, MAX_PRELOADED_KEYS);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PRELOAD_CONCURRENCY, preload) }, async (_unused, lane) => {
      for (let n = next++; n < preload; n = next++) {
        await pool.forWorker(lane).unary('KV', 'Put', { key: encodeKey('', n, options.keySize), value });
      }
    }),
  );
  const serializable = options.consistency === 's';
  return {
    op: async (worker, seq) => {
      const key = encodeKey('', keyNumber(seq, options), options.keySize);
      await pool.forWorker(worker).unary('KV', 'Range', { key, serializable });
    },
    close: async () => undefined,
  };
};
