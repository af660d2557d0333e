import { Errors } from '../errors';
import type {
  Answer,
  LeaseGrantResult,
  LeaseKeepAliveResult,
  LeasePort,
  LeaseTimeToLiveResult,
  RequestContext,
} from '../api/member-port';
import { MAX_LEASE_TTL_SECONDS } from '../lease/lessor';
import type { Member } from './member';

/** Grant and revoke go through Raft; keepalive and time-to-live are answered by the leader (forwarded there). */
export class LeaseService implements LeasePort {
  constructor(private readonly member: Member) {}

  async grant(ttlSeconds: bigint, id: bigint, ctx: RequestContext): Promise<Answer<LeaseGrantResult>> {
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw Errors.leaseTtlTooLarge();
    const leaseId = id === 0n ? this.member.nextLeaseId() : id;
    const { value } = await this.member.propose({ kind: 'leaseGrant', leaseId, ttlSeconds }, ctx);
    return { header: this.member.header(), result: value as LeaseGrantResult };
  }

  async revoke(id: bigint, ctx: RequestContext): Promise<Answer<null>> {
    if (!this.member.lessor.has(id)) throw Errors.leaseNotFound();
    const { revision } = await this.member.propose({ kind: 'leaseRevoke', leaseId: id }, ctx);
    return { header: this.member.header(revision), result: null };
  }

  async keepAlive(id: bigint, ctx: RequestContext): Promise<Answer<LeaseKeepAliveResult>> {
    const ttlSeconds = await this.member.keepAliveLease(id, ctx);
    return { header: this.member.header(), result: { id, ttlSeconds } };
  }

  async timeToLive(id: bigint, withKeys: boolean, ctx: RequestContext): Promise<Answer<LeaseTimeToLiveResult>> {
    const answer = await this.member.leaseTimeToLive({ leaseId: id, withKeys }, ctx);
    return { header: this.member.header(), result: { id, ...answer } };
  }

  async leases(_ctx: RequestContext): Promise<Answer<bigint[]>> {
    return { header: this.member.header(), result: this.member.lessor.ids() };
  }
}
