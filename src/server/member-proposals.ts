import { Errors } from '../errors';
import type { MemberMetrics } from '../metrics/member-metrics';
import { ProposalDroppedError, type RawNode } from '../consensus';
import type { ConfChangeTypeValue } from '../consensus/types';
import type { MemberInfo, RequestContext } from '../api/member-port';
import type { ApplyValue } from './applier';
import { encodeConfChangeContext } from './conf-change-context';
import type { MemberConfig } from './config';
import type { IdGenerator } from './id-generator';
import type { Proposal } from './proposal';
import { encodeRequest } from './request-codec';
import type { WaitRegistry } from './wait';

export interface MemberProposalsDeps {
  raft: Pick<RawNode, 'propose' | 'proposeConfChange'>;
  waits: WaitRegistry<{ revision: bigint; value: ApplyValue }>;
  ids: IdGenerator;
  config: Pick<MemberConfig, 'electionTimeoutMs' | 'maxRequestBytes'>;
  isStopped(): boolean;
  /** The leader this member knows now (0 for none). */
  leaderId(): bigint;
  /** Read per call: the member's metrics sink may be replaced after construction. */
  metrics(): MemberMetrics;
  /** The quota gate (member-quota.ts); throws to refuse. */
  checkQuota(proposal: Proposal): void;
  /** Runs the Ready loop once this turn's I/O has arrived (group commit). */
  scheduleLoop(): void;
  /** Runs the Ready loop now. */
  runLoop(): void;
}

/**
 * The write side of a member: turns client requests and membership changes into Raft
 * proposals, registers the wait each answer comes back through, and holds requests back
 * while no leader is known. Split out of member.ts because it is the client-facing half;
 * the Ready loop in member.ts answers the waits when the entries apply.
 */
export class MemberProposals {
  /** Requests that arrived while there was no leader, released when one is known. */
  private leaderWaiters: Array<() => void> = [];

  constructor(private readonly deps: MemberProposalsDeps) {}

  /** Proposes a change and resolves with its apply result; an apply-time refusal throws. */
  async propose(proposal: Proposal, ctx: RequestContext): Promise<{ revision: bigint; value: ApplyValue }> {
    const { waits, ids, config, raft } = this.deps;
    if (this.deps.isStopped()) throw Errors.serverStopped();
    this.deps.checkQuota(proposal);
    await this.awaitLeader(ctx);
    if (waits.isFull()) throw Errors.tooManyRequests();
    const requestId = ids.next();
    const identity = ctx.identity;
    // Writes carry who asked and the auth revision they were checked at (see RequestEnvelope).
    const actor = identity !== undefined && identity !== null && proposal.kind !== 'auth' ? { user: identity.user, authRevision: identity.authRevision } : undefined;
    const data = encodeRequest(actor === undefined ? { requestId, proposal } : { requestId, proposal, actor });
    if (data.byteLength > config.maxRequestBytes) throw Errors.requestTooLarge();
    const applied = waits.register(requestId);
    this.deps.metrics().proposalPending(1);
    applied.then(
      () => this.deps.metrics().proposalPending(-1),
      () => {
        this.deps.metrics().proposalPending(-1);
        this.deps.metrics().proposalFailed();
      },
    );
    try {
      raft.propose(data);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      waits.reject(requestId, this.deps.leaderId() === 0n ? Errors.noLeader() : Errors.leaderChanged());
    }
    this.deps.scheduleLoop();
    return applied;
  }

  /**
   * Proposes a membership change and resolves with the members once it is applied. Raft
   * takes one change at a time: a change proposed while another is pending is retried.
   */
  async changeMembership(type: ConfChangeTypeValue, member: MemberInfo, ctx: RequestContext): Promise<MemberInfo[]> {
    const { waits, ids, raft } = this.deps;
    await this.awaitLeader(ctx);
    const requestId = ids.next();
    const applied = waits.register(requestId);
    const change = { type, nodeId: member.id, context: encodeConfChangeContext({ requestId, member }) };
    for (let attempt = 0; ; attempt++) {
      try {
        raft.proposeConfChange(change);
        break;
      } catch (err) {
        if (!(err instanceof ProposalDroppedError) || attempt >= 40 || this.deps.isStopped()) {
          waits.reject(requestId, Errors.timeout());
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    this.deps.runLoop();
    return (await applied).value as MemberInfo[];
  }

  /**
   * Without a leader a proposal would be dropped. Clients that sent `hasleader` want to
   * know at once; others wait (bounded by one election round plus slack), as etcd's
   * clients expect during a start or an election.
   */
  async awaitLeader(ctx: RequestContext): Promise<void> {
    if (this.deps.leaderId() !== 0n) return;
    if (ctx.requireLeader) throw Errors.noLeader();
    const boundMs = 3 * this.deps.config.electionTimeoutMs + 1000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.leaderWaiters = this.leaderWaiters.filter((w) => w !== release);
        reject(Errors.noLeader());
      }, boundMs);
      const release = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.leaderWaiters.push(release);
    });
    if (this.deps.isStopped()) throw Errors.serverStopped();
  }

  /** A leader is known: the requests waiting for one go ahead. */
  releaseLeaderWaiters(): void {
    const waiters = this.leaderWaiters;
    this.leaderWaiters = [];
    for (const release of waiters) release();
  }
}
