import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Errors } from '../errors';
import type {
  AlarmActionValue,
  AlarmMember,
  AlarmTypeValue,
  Answer,
  MaintenancePort,
  RequestContext,
  SnapshotChunk,
  StatusResult,
} from '../api/member-port';
import { AlarmAction, AlarmType } from '../api/member-port';
import type { Member } from './member';
import { alarmName } from './alarms';

/** The etcd version latchkey answers as: clients gate features on it. */
export const ETCD_API_VERSION = '3.4.23';
const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

export class MaintenanceService implements MaintenancePort {
  constructor(
    private readonly member: Member,
    private readonly electionTimeoutMs: number,
  ) {}

  async status(_ctx: RequestContext): Promise<Answer<StatusResult>> {
    const raft = this.member.raftStatus();
    const store = this.member.store;
    return {
      header: this.member.header(),
      result: {
        version: ETCD_API_VERSION,
        dbSize: store.dbSizeBytes(),
        leader: raft.lead,
        raftIndex: raft.commit,
        raftTerm: raft.term,
        raftAppliedIndex: raft.applied,
        errors: this.member.alarms().list().map((a) => `memberID:${a.memberId} alarm:${alarmName(a.alarm)} `),
        dbSizeInUse: store.dbSizeInUseBytes(),
        isLearner: this.member.isLearner(),
      },
    };
  }

  async hash(_ctx: RequestContext): Promise<Answer<number>> {
    return { header: this.member.header(), result: this.member.store.hash() };
  }

  async hashKV(revision: bigint, _ctx: RequestContext): Promise<Answer<{ hash: number; compactRevision: bigint }>> {
    const { hash, compactRevision } = this.member.store.hashKV(revision);
    return { header: this.member.header(), result: { hash, compactRevision } };
  }

  /**
   * A consistent copy of the database, streamed in chunks and followed by its sha256, as
   * etcd streams its bolt file (etcdctl snapshot save writes the bytes as they come).
   */
  async *snapshot(_ctx: RequestContext): AsyncIterable<Answer<SnapshotChunk>> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-snapshot-'));
    const file = path.join(dir, 'db');
    try {
      await this.member.store.copyTo(file);
      const size = fs.statSync(file).size;
      const digest = createHash('sha256');
      let sent = 0;
      const header = this.member.header();
      for await (const chunk of fs.createReadStream(file, { highWaterMark: SNAPSHOT_CHUNK_BYTES })) {
        const blob = chunk as Buffer;
        digest.update(blob);
        sent += blob.length;
        yield { header, result: { remainingBytes: BigInt(size - sent), blob } };
      }
      yield { header, result: { remainingBytes: 0n, blob: digest.digest() } };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * etcd's Alarm: GET lists the applied alarms (NONE = all); ACTIVATE and DEACTIVATE go
   * through Raft so every member agrees, and answer with the alarms they changed.
   */
  async alarm(action: AlarmActionValue, memberId: bigint, alarm: AlarmTypeValue, ctx: RequestContext): Promise<AlarmMember[]> {
    if (action === AlarmAction.GET) return this.member.alarms().list(alarm);
    if (alarm === AlarmType.NONE) return [];
    const { value } = await this.member.propose({ kind: 'alarm', action, memberId, alarm }, ctx);
    return value as AlarmMember[];
  }

  /** Rewrites this member's database without free pages (the file shrinks); alarms stay as they are. */
  async defragment(_ctx: RequestContext): Promise<void> {
    await this.member.defragment();
  }

  /** etcd's MoveLeader: only the leader can hand over, and only to a voting member. */
  async moveLeader(targetId: bigint, _ctx: RequestContext): Promise<void> {
    if (!this.member.isLeader()) throw Errors.notLeader();
    const target = this.member.membership.get(targetId);
    if (target === undefined || target.isLearner) throw Errors.badLeaderTransferee();
    if (targetId === this.member.id) return;
    const moved = await this.member.transferLeadership(targetId, this.electionTimeoutMs * 3);
    if (!moved) throw Errors.timeout();
  }
}
