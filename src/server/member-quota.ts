import { Errors } from '../errors';
import type { Logger } from '../log';
import { AlarmAction, AlarmType, type RequestContext } from '../api/member-port';
import type { MvccStore } from '../storage/mvcc';
import type { ActiveAlarms } from './alarms';
import type { MemberConfig } from './config';
import type { Proposal } from './proposal';
import { BackendQuota, growsDatabase } from './quota';

export interface NoSpaceGateDeps {
  store: MvccStore;
  alarms: ActiveAlarms;
  config: Pick<MemberConfig, 'quotaBackendBytes'>;
  selfId: bigint;
  /** The member's propose: NOSPACE is raised through Raft like any other request. */
  propose(proposal: Proposal, ctx: RequestContext): Promise<unknown>;
  /** The member's own logger (component "member"). */
  logger: Logger;
}

/**
 * The quota gate in front of the member's proposals, split out of member.ts because it is
 * one rule with its own state (whether NOSPACE is being raised) and nothing to do with
 * driving Raft.
 */
export class NoSpaceGate {
  private readonly quota: BackendQuota;
  private raisingNoSpace = false;

  constructor(private readonly deps: NoSpaceGateDeps) {
    this.quota = new BackendQuota(() => deps.store.dbSizeBytes(), BigInt(deps.config.quotaBackendBytes));
  }

  /**
   * etcd's quota gate before proposing: a request that would grow the database past
   * --quota-backend-bytes is refused, and this member raises NOSPACE through Raft (once).
   * While NOSPACE is raised such requests are refused at once (the applier refuses them too).
   */
  check(proposal: Proposal): void {
    const { alarms, store, config } = this.deps;
    if (proposal.kind === 'alarm') return;
    if (alarms.has(AlarmType.NOSPACE)) {
      if (growsDatabase(proposal)) throw Errors.noSpace();
      return;
    }
    if (this.quota.available(proposal)) return;
    this.raise({ dbSizeBytes: store.dbSizeBytes().toString(), quotaBytes: config.quotaBackendBytes }, 'database space exceeded; raising NOSPACE');
    throw Errors.noSpace();
  }

  /** The file system is almost full (DiskSpaceWatch): NOSPACE goes up as for the quota. */
  diskAlmostFull(freeBytes: bigint): void {
    if (this.deps.alarms.has(AlarmType.NOSPACE)) return;
    this.raise({ freeBytes: freeBytes.toString() }, 'file system almost full; raising NOSPACE');
  }

  /** Proposes the NOSPACE alarm for this member, unless a proposal of it is in flight. */
  private raise(fields: Record<string, string | number>, message: string): void {
    if (this.raisingNoSpace) return;
    const { logger, selfId } = this.deps;
    this.raisingNoSpace = true;
    logger.warn(fields, message);
    const raise: Proposal = { kind: 'alarm', action: AlarmAction.ACTIVATE, memberId: selfId, alarm: AlarmType.NOSPACE };
    this.deps
      .propose(raise, { signal: new AbortController().signal, requireLeader: false })
      .catch((err: unknown) => logger.warn({ err }, 'raising the NOSPACE alarm failed'))
      .finally(() => {
        this.raisingNoSpace = false;
      });
  }
}
