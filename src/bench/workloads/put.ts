import { encodeKey, keyNumber, makeValue } from '../keys';
import type { WorkloadFactory } from './types';

/** `put`: one Put per operation, keys from the key space. */
export const putWorkload: WorkloadFactory = async (options, pool) => {
  const value = makeValue(options.valSize);
  return {
    op: async (worker, seq) => {
      const key = encodeKey('', keyNumber(seq, options), options.keySize);
      await pool.forWorker(worker).unary('KV', 'Put', { key, value });
    },
    close: async () => undefined,
  };
};

/** `txn-put`: one Txn per operation holding a single Put and no compare (etcd's txn-put). */
export const txnPutWorkload: WorkloadFactory = async (options, pool) => {
  const value = makeValue(options.valSize);
  return {
    op: async (worker, seq) => {
      const key = encodeKey('', keyNumber(seq, options), options.keySize);
      await pool.forWorker(worker).unary('KV', 'Txn', { compare: [], success: [{ request_put: { key, value } }], failure: [] });
    },
    close: async () => undefined,
  };
};
