import type { AuthGate, AuthIdentity } from '../auth/auth-gate';
import { Errors } from '../errors';
import type { DeleteRangeRequest, PutRequest, RequestOp, TxnRequest } from '../storage/mvcc/types';
import type { MemberPort, RequestContext } from './member-port';

/**
 * The caller's permission checks, with etcd's order and errors. While auth is disabled
 * every check passes; with auth enabled, a caller without an identity is refused with
 * "user name is empty" (etcd checks an empty AuthInfo) and one without the permission
 * with "permission denied" (thrown by the gate).
 */
export class Permissions {
  constructor(
    private readonly gate: AuthGate,
    readonly identity: AuthIdentity | null,
    /** Keys attached to a lease (none for an unknown lease): etcd's lessor.Lookup(id).Keys(). */
    private readonly leaseKeys: (lease: bigint) => Promise<Buffer[]>,
  ) {}

  read(key: Buffer, rangeEnd: Buffer): void {
    const who = this.who();
    if (who !== undefined) this.gate.checkRead(who, key, rangeEnd);
  }

  write(key: Buffer, rangeEnd: Buffer): void {
    const who = this.who();
    if (who !== undefined) this.gate.checkWrite(who, key, rangeEnd);
  }

  admin(): void {
    const who = this.who();
    if (who !== undefined) this.gate.checkAdmin(who);
  }

  /** Put: WRITE on the key, WRITE on every key already on its lease, READ when prev_kv. */
  async put(req: PutRequest): Promise<void> {
    this.write(req.key, EMPTY);
    await this.leaseWrites(req.lease);
    if (req.prevKv) this.read(req.key, EMPTY);
  }

  /** DeleteRange: WRITE on the range, READ on it when prev_kv. */
  deleteRange(req: DeleteRangeRequest): void {
    this.write(req.key, req.rangeEnd);
    if (req.prevKv) this.read(req.key, req.rangeEnd);
  }

  /**
   * Txn: READ on every compare range, then every op of success and failure (both are
   * checked whatever the compares decide). etcd 3.4 checks a Put in a txn for WRITE only
   * and skips nested txns; latchkey applies the full Put rule and descends into nested
   * txns, so a txn can never do more than the same requests sent one by one.
   */
  async txn(req: TxnRequest, depth = 0): Promise<void> {
    if (depth > MAX_CHECK_DEPTH) throw new Error(`txn nested deeper than ${MAX_CHECK_DEPTH}`);
    for (const compare of req.compare) this.read(compare.key, compare.rangeEnd);
    for (const op of req.success) await this.op(op, depth);
    for (const op of req.failure) await this.op(op, depth);
  }

  /** LeaseRevoke: WRITE on every key attached to the lease (revoking deletes them). */
  async leaseRevoke(lease: bigint): Promise<void> {
    await this.leaseWrites(lease);
  }

  private async op(op: RequestOp, depth: number): Promise<void> {
    switch (op.kind) {
      case 'range': return this.read(op.range.key, op.range.rangeEnd);
      case 'put': return this.put(op.put);
      case 'deleteRange': return this.deleteRange(op.deleteRange);
      case 'txn': return this.txn(op.txn, depth + 1);
      case 'none': return;
    }
  }

  private async leaseWrites(lease: bigint): Promise<void> {
    if (lease === 0n || this.who() === undefined) return;
    for (const key of await this.leaseKeys(lease)) this.write(key, EMPTY);
  }

  /** undefined: nothing to check (auth off); throws when auth is on and nobody is known. */
  private who(): AuthIdentity | undefined {
    if (!this.gate.enabled()) return undefined;
    if (this.identity === null) throw Errors.userEmpty();
    return this.identity;
  }
}

const EMPTY = Buffer.alloc(0);

/** Nested txns are bounded by the codec (MAX_TXN_DEPTH); this only guards the recursion. */
const MAX_CHECK_DEPTH = 1024;

/** The keys attached to `lease` now (none for an unknown or expired lease). */
export async function leaseKeysOf(member: MemberPort, lease: bigint, ctx: RequestContext): Promise<Buffer[]> {
  const answer = await member.lease.timeToLive(lease, true, ctx);
  return answer.result.ttlSeconds < 0n ? [] : answer.result.keys;
}
