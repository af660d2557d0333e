import { EtcdClient, prefixEnd, type Wire } from '../support/etcd-client';

/** Helpers for process-level tests that look at a server through its KV and Watch services. */

export function hexOf(id: string): string {
  return BigInt(id).toString(16);
}

/** Whether `promise` is still pending after the server has answered one more round trip. */
export async function stillPending(promise: Promise<unknown>, kv: EtcdClient): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await kv.range({ key: Buffer.from('round-trip') });
  await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}

/** Resolves on the first event under `prefix` (replayed from revision 1) that matches. */
export async function awaitEvent(kv: EtcdClient, prefix: string, match: (event: Wire) => boolean, timeoutMs = 10_000): Promise<Wire> {
  const stream = kv.watchStream();
  try {
    stream.send({ create_request: { key: Buffer.from(prefix), range_end: prefixEnd(prefix), start_revision: 1 } });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await stream.next(Math.max(1, deadline - Date.now()));
      const found = (response.events ?? []).find(match);
      if (found !== undefined) return found;
    }
  } finally {
    stream.close();
  }
}

export const isDelete = (event: Wire): boolean => event.type === 'DELETE' || event.type === 'Delete';
export const putOf = (key: string) => (event: Wire): boolean => !isDelete(event) && Buffer.from(event.kv.key).toString() === key;
export const deleteOf = (key: string) => (event: Wire): boolean => isDelete(event) && Buffer.from(event.kv.key).toString() === key;
