import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { rangeRequestFromWire } from '../api/codec/kv-requests';
import type { Answer, MemberPort, StatusResult } from '../api/member-port';
import type { MemberMetrics } from './member-metrics';

/** etcd's bucket layouts (prometheus.ExponentialBuckets(0.001, 2, 14) etc.). */
const DISK_BUCKETS = Array.from({ length: 14 }, (_v, i) => 0.001 * 2 ** i);
const PEER_RTT_BUCKETS = Array.from({ length: 16 }, (_v, i) => 0.0001 * 2 ** i);
const LOCK_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 3600];

/** A key range covering every key: key "\0", range_end "\0". */
const ALL_KEYS_COUNT = { key: Buffer.from([0]), range_end: Buffer.from([0]), count_only: true, serializable: true };

/** Scrape-time reads of the member must not hang a scrape. */
const SCRAPE_READ_TIMEOUT_MS = 1000;

/** Gauges of one scrape share a Status read made within this window. */
const STATUS_REUSE_MS = 100;

/**
 * One member's Prometheus metrics, named as etcd names them where the meaning matches.
 * Per-member registry (not prom-client's global one) so several members can share a process.
 */
export class MetricsRegistry implements MemberMetrics {
  readonly registry = new Registry();
  private member: MemberPort | undefined;

  private readonly leaderChanges = new Counter({ name: 'etcd_server_leader_changes_seen_total', help: 'The number of leader changes seen.', registers: [this.registry] });
  private readonly pending = new Gauge({ name: 'etcd_server_proposals_pending', help: 'The current number of pending proposals to commit.', registers: [this.registry] });
  private readonly failed = new Counter({ name: 'etcd_server_proposals_failed_total', help: 'The total number of failed proposals seen.', registers: [this.registry] });
  private readonly walFsyncs = new Histogram({ name: 'etcd_disk_wal_fsync_duration_seconds', help: 'The latency distributions of fsync called by WAL.', buckets: DISK_BUCKETS, registers: [this.registry] });
  private readonly backendCommits = new Histogram({ name: 'etcd_disk_backend_commit_duration_seconds', help: 'The latency distributions of commit called by backend.', buckets: DISK_BUCKETS, registers: [this.registry] });
  private readonly peerRtt = new Histogram({ name: 'etcd_network_peer_round_trip_time_seconds', help: 'Round-Trip-Time histogram between peers.', labelNames: ['To'], buckets: PEER_RTT_BUCKETS, registers: [this.registry] });
  private readonly grpcHandled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'Total number of RPCs completed on the server, regardless of success or failure.',
    labelNames: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'],
    registers: [this.registry],
  });
  private readonly lockWaiting = new Gauge({ name: 'latchkey_lock_waiters', help: 'Lock requests currently waiting for a lock.', registers: [this.registry] });
  private readonly lockHolds = new Histogram({ name: 'latchkey_lock_hold_seconds', help: 'How long locks were held.', buckets: LOCK_BUCKETS, registers: [this.registry] });
  private readonly lockHandovers = new Histogram({ name: 'latchkey_lock_handover_seconds', help: 'Time from a lock release to the next waiter holding it.', buckets: LOCK_BUCKETS, registers: [this.registry] });

  /** One Status read shared by the gauges of a scrape (concurrent scrapes share it briefly). */
  private statusRead: { at: number; answer: Promise<Answer<StatusResult> | undefined> } | undefined;

  constructor() {
    const read = (): MemberPort | undefined => this.member;
    const ctx = (): { signal: AbortSignal; requireLeader: boolean } => ({ signal: AbortSignal.timeout(SCRAPE_READ_TIMEOUT_MS), requireLeader: false });
    const status = (): Promise<Answer<StatusResult> | undefined> => {
      const member = read();
      if (member === undefined) return Promise.resolve(undefined);
      const now = performance.now();
      if (this.statusRead === undefined || now - this.statusRead.at > STATUS_REUSE_MS) {
        this.statusRead = { at: now, answer: member.maintenance.status(ctx()).catch(() => undefined) };
      }
      return this.statusRead.answer;
    };
    // etcd sets these two gauges to the Raft commit and applied indexes.
    new Gauge({
      name: 'etcd_server_proposals_committed_total',
      help: 'The total number of consensus proposals committed.',
      registers: [this.registry],
      async collect() {
        const answer = await status();
        if (answer !== undefined) this.set(Number(answer.result.raftIndex));
      },
    });
    new Gauge({
      name: 'etcd_server_proposals_applied_total',
      help: 'The total number of consensus proposals applied.',
      registers: [this.registry],
      async collect() {
        const answer = await status();
        if (answer !== undefined) this.set(Number(answer.result.raftAppliedIndex));
      },
    });
    new Gauge({
      name: 'etcd_server_has_leader',
      help: 'Whether or not a leader exists. 1 is existence, 0 is not.',
      registers: [this.registry],
      async collect() {
        const answer = await status();
        this.set(answer !== undefined && answer.result.leader !== 0n ? 1 : 0);
      },
    });
    new Gauge({
      name: 'etcd_server_is_leader',
      help: 'Whether or not this member is a leader. 1 if is, 0 otherwise.',
      registers: [this.registry],
      async collect() {
        const answer = await status();
        this.set(answer !== undefined && answer.result.leader !== 0n && answer.result.leader === answer.header.memberId ? 1 : 0);
      },
    });
    new Gauge({
      name: 'etcd_mvcc_db_total_size_in_bytes',
      help: 'Total size of the underlying database physically allocated in bytes.',
      registers: [this.registry],
      async collect() {
        const answer = await status();
        if (answer !== undefined) this.set(Number(answer.result.dbSize));
      },
    });
    new Gauge({
      name: 'etcd_debugging_mvcc_keys_total',
      help: 'Total number of keys.',
      registers: [this.registry],
      async collect() {
        const member = read();
        if (member === undefined) return;
        const answer = await member.kv.range(rangeRequestFromWire(ALL_KEYS_COUNT), ctx()).catch(() => undefined);
        if (answer !== undefined) this.set(Number(answer.result.count));
      },
    });
  }

  /** Lets scrape-time gauges read the member (has_leader, db size, keys). */
  attachMember(member: MemberPort): void {
    this.member = member;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Each scrape reads Status afresh (its gauges share that one read). */
  scrape(): Promise<string> {
    this.statusRead = undefined;
    return this.registry.metrics();
  }

  /** One finished RPC (gRPC or gateway); `code` is the gRPC status code number. */
  rpcHandled(service: string, method: string, kind: string, code: number): void {
    this.grpcHandled.inc({ grpc_type: kind, grpc_service: service, grpc_method: method, grpc_code: GRPC_CODE_NAMES[code] ?? String(code) });
  }

  leaderChanged(): void { this.leaderChanges.inc(); }
  proposalPending(delta: number): void { this.pending.inc(delta); }
  proposalFailed(): void { this.failed.inc(); }
  walFsync(seconds: number): void { this.walFsyncs.observe(seconds); }
  backendCommit(seconds: number): void { this.backendCommits.observe(seconds); }
  peerRoundTrip(peerId: string, seconds: number): void { this.peerRtt.observe({ To: peerId }, seconds); }
  lockWaiters(delta: number): void { this.lockWaiting.inc(delta); }
  lockHeld(seconds: number): void { this.lockHolds.observe(seconds); }
  lockHandover(seconds: number): void { this.lockHandovers.observe(seconds); }
}

/** grpc-go's codes.Code.String(), as go-grpc-prometheus labels them. */
export const GRPC_CODE_NAMES: readonly string[] = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
];
