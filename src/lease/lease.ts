/** One lease as the lessor tracks it in memory. */
export interface Lease {
  readonly id: bigint;
  readonly ttlSeconds: bigint;
  /** Wall-clock ms at which the leader revokes it; Infinity while this member is not leader. */
  expiryMs: number;
  /** Remaining TTL at the last checkpoint through Raft; 0 = none since the last renewal. */
  checkpointSeconds: bigint;
  /** Attached keys, by their latin1 text (a lossless Buffer ↔ string mapping). */
  readonly keys: Set<string>;
}

export const keyText = (key: Buffer): string => key.toString('latin1');
export const keyBytes = (text: string): Buffer => Buffer.from(text, 'latin1');
