import type { ClientDuplexStream } from '@grpc/grpc-js';
import { makeValue } from '../keys';
import type { Wire } from '../rpc';
import type { WorkloadFactory } from './types';

/**
 * `watch`: `watchers` watchers (spread over `watchStreams` streams) watch one prefix; each
 * operation is one Put under it and completes when every watcher has received its event, so
 * the latency is put-to-event across all watchers. The value carries the operation number.
 */

const PREFIX = 'bench-watch/';
const EVENT_TIMEOUT_MS = 30_000;

interface PendingPut {
  remaining: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1]! += 1;
  return end;
}

/** The value of put number `seq`: "<seq>:" padded with x to valSize (longer if needed). */
function valueFor(seq: number, valSize: number): Buffer {
  const head = Buffer.from(`${seq}:`);
  return head.length >= valSize ? head : Buffer.concat([head, makeValue(valSize - head.length)]);
}

function seqOf(value: Buffer): number {
  return Number.parseInt(value.subarray(0, value.indexOf(0x3a)).toString(), 10);
}

export const watchWorkload: WorkloadFactory = async (options, pool) => {
  const pending = new Map<number, PendingPut>();
  const streams: Array<ClientDuplexStream<Wire, Wire>> = [];
  const onEvent = (seq: number): void => {
    const put = pending.get(seq);
    if (put === undefined) return;
    put.remaining -= 1;
    if (put.remaining === 0) {
      clearTimeout(put.timer);
      pending.delete(seq);
      put.resolve();
    }
  };
  const failAll = (error: Error): void => {
    for (const put of pending.values()) {
      clearTimeout(put.timer);
      put.reject(error);
    }
    pending.clear();
  };

  const streamCount = Math.min(options.watchStreams, options.watchers);
  const created: Array<Promise<void>> = [];
  for (let s = 0; s < streamCount; s++) {
    const watchersHere = Math.floor(options.watchers / streamCount) + (s < options.watchers % streamCount ? 1 : 0);
    const stream = pool.forWorker(s).stream('Watch', 'Watch');
    streams.push(stream);
    created.push(
      new Promise<void>((resolve, reject) => {
        let createdHere = 0;
        stream.on('data', (response: Wire) => {
          if (response.created === true && ++createdHere === watchersHere) resolve();
          for (const event of (response.events ?? []) as Wire[]) onEvent(seqOf(event.kv.value as Buffer));
        });
        stream.on('error', (error: Error) => {
          reject(error);
          failAll(error);
        });
      }),
    );
    for (let w = 0; w < watchersHere; w++) {
      stream.write({ create_request: { key: Buffer.from(PREFIX), range_end: prefixEnd(PREFIX) } });
    }
  }
  await Promise.all(created);

  return {
    op: async (worker, seq) => {
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(seq);
          reject(new Error(`put ${seq}: not every watcher saw the event within ${EVENT_TIMEOUT_MS} ms`));
        }, EVENT_TIMEOUT_MS);
        pending.set(seq, { remaining: options.watchers, resolve, reject, timer });
      });
      const key = Buffer.from(`${PREFIX}${worker}`);
      await pool.forWorker(worker).unary('KV', 'Put', { key, value: valueFor(seq, options.valSize) });
      await done;
    },
    close: async () => {
      for (const stream of streams) {
        stream.removeAllListeners('error');
        stream.on('error', () => undefined);
        stream.cancel();
      }
      failAll(new Error('watch workload closed'));
    },
  };
};
