const TIMESTAMP_BITS = 40n;
const COUNTER_BITS = 8n;
const SUFFIX_BITS = TIMESTAMP_BITS + COUNTER_BITS;
const SUFFIX_MASK = (1n << SUFFIX_BITS) - 1n;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Unique 64-bit ids as etcd's idutil makes them: the member id's low 16 bits, then the
 * low 40 bits of the start time in ms and an 8-bit counter that carries into the time.
 * Used for request ids and for server-chosen lease ids (masked to a positive int64).
 */
export class IdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << SUFFIX_BITS;
    this.suffix = (BigInt(nowMs) & ((1n << TIMESTAMP_BITS) - 1n)) << COUNTER_BITS;
  }

  next(): bigint {
    this.suffix = (this.suffix + 1n) & SUFFIX_MASK;
    return this.prefix | this.suffix;
  }

  nextLeaseId(): bigint {
    return this.next() & INT64_MAX;
  }
}
