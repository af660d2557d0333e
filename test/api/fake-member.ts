import { EventEmitter } from 'node:events';
import type {
  Answer,
  ClusterPort,
  KvPort,
  LeasePort,
  MaintenancePort,
  MemberInfo,
  MemberPort,
  RequestContext,
  ResponseHeader,
  SnapshotChunk,
  StatusResult,
  WatchPort,
} from '../../src/api/member-port';
import type { KeyValue, RangeResult, TxnResult } from '../../src/storage/mvcc/types';
import type { WatchCreateRequest, WatchResponse, WatchResponseSink, WatchStream } from '../../src/storage/mvcc/watch/types';

/** A member id above 2^63, as real etcd member and cluster ids routinely are. */
export const BIG_CLUSTER_ID = 15875391935852295136n;
export const BIG_MEMBER_ID = 18446744073709551615n;

export interface RecordedCall {
  method: string;
  args: unknown[];
  ctx?: RequestContext;
}

export function kv(key: string, value: string, overrides: Partial<KeyValue> = {}): KeyValue {
  return {
    key: Buffer.from(key),
    value: Buffer.from(value),
    createRevision: 2n,
    modRevision: 3n,
    version: 2n,
    lease: 0n,
    ...overrides,
  };
}

/** One fake watch stream: records what the API asked, lets a test push responses. */
export class FakeWatchStream implements WatchStream {
  readonly creates: WatchCreateRequest[] = [];
  readonly cancels: bigint[] = [];
  progressRequests = 0;
  closed = false;
  private nextId = 0n;

  constructor(
    private readonly member: FakeMember,
    readonly sink: WatchResponseSink,
  ) {}

  create(req: WatchCreateRequest): void {
    this.creates.push(req);
    const watchId = req.watchId !== 0n ? req.watchId : this.nextId++;
    this.sink(watchResponse({ watchId, created: true, headerRevision: this.member.header.revision, fragment: req.fragment }));
    this.member.emit('watchCreate', req);
  }

  cancel(watchId: bigint): void {
    this.cancels.push(watchId);
    this.sink(watchResponse({ watchId, canceled: true, headerRevision: this.member.header.revision }));
  }

  requestProgress(): void {
    this.progressRequests++;
    this.sink(watchResponse({ watchId: -1n, headerRevision: this.member.header.revision }));
  }

  close(): void {
    this.closed = true;
    this.member.emit('watchClosed', this);
  }
}

export function watchResponse(fields: Partial<WatchResponse>): WatchResponse {
  return {
    headerRevision: 0n,
    watchId: 0n,
    created: false,
    canceled: false,
    compactRevision: 0n,
    cancelReason: '',
    fragment: false,
    events: [],
    ...fields,
  };
}

/**
 * A MemberPort that answers from canned results and records every call, so tests can
 * check what reached the member (and that nothing did after a validation error).
 * Emits 'call' (RecordedCall), 'watchCreate' and 'watchClosed'.
 */
export class FakeMember extends EventEmitter implements MemberPort {
  readonly calls: RecordedCall[] = [];
  readonly watchStreams: FakeWatchStream[] = [];
  header: ResponseHeader = { clusterId: BIG_CLUSTER_ID, memberId: BIG_MEMBER_ID, revision: 7n, raftTerm: 2n };
  limits = { maxRequestBytes: 1_572_864, maxTxnOps: 128 };
  /** Thrown (rejected) by the next member call, then cleared. */
  failNext: Error | undefined;
  /** When set, calls wait for this before answering (to test cancellation). */
  hold: Promise<void> | undefined;

  rangeResult: RangeResult = { kvs: [], more: false, count: 0n };
  txnResult: TxnResult = { succeeded: true, responses: [] };
  members: MemberInfo[] = [
    { id: BIG_MEMBER_ID, name: 'm1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379'], isLearner: false },
  ];
  status: StatusResult = {
    version: '3.4.23',
    dbSize: 20480n,
    leader: BIG_MEMBER_ID,
    raftIndex: 4n,
    raftTerm: 2n,
    raftAppliedIndex: 4n,
    errors: [],
    dbSizeInUse: 16384n,
    isLearner: false,
  };
  snapshotChunks: SnapshotChunk[] = [];
  keepAliveTtl = 10n;

  private async answer<T>(method: string, args: unknown[], ctx: RequestContext | undefined, result: T): Promise<Answer<T>> {
    const call: RecordedCall = { method, args, ctx };
    this.calls.push(call);
    this.emit('call', call);
    if (this.hold !== undefined) await this.hold;
    const failure = this.failNext;
    if (failure !== undefined) {
      this.failNext = undefined;
      throw failure;
    }
    return { header: { ...this.header }, result };
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  readonly kv: KvPort = {
    range: (req, ctx) => this.answer('range', [req], ctx, this.rangeResult),
    put: (req, ctx) => this.answer('put', [req], ctx, req.prevKv ? { prevKv: kv('p', 'old') } : {}),
    deleteRange: (req, ctx) => this.answer('deleteRange', [req], ctx, { deleted: 1n, prevKvs: [] }),
    txn: (req, ctx) => this.answer('txn', [req], ctx, this.txnResult),
    compact: (req, ctx) => this.answer('compact', [req], ctx, null),
  };

  readonly lease: LeasePort = {
    grant: (ttl, id, ctx) => this.answer('leaseGrant', [ttl, id], ctx, { id: id === 0n ? 0x12c8a217c50ea211n : id, ttlSeconds: ttl < 2n ? 2n : ttl }),
    revoke: (id, ctx) => this.answer('leaseRevoke', [id], ctx, null),
    keepAlive: (id, ctx) => this.answer('leaseKeepAlive', [id], ctx, { id, ttlSeconds: this.keepAliveTtl }),
    timeToLive: (id, keys, ctx) =>
      this.answer('leaseTimeToLive', [id, keys], ctx, { id, ttlSeconds: -1n, grantedTtlSeconds: 0n, keys: keys ? [Buffer.from('k1')] : [] }),
    leases: (ctx) => this.answer('leaseLeases', [], ctx, [-7n, 0x12c8a217c50ea211n]),
  };

  readonly watch: WatchPort = {
    openStream: (sink) => {
      const stream = new FakeWatchStream(this, sink);
      this.watchStreams.push(stream);
      return stream;
    },
    headerFor: (revision) => ({ ...this.header, revision }),
  };

  readonly cluster: ClusterPort = {
    memberList: (ctx) => this.answer('memberList', [], ctx, this.members),
    memberAdd: (peerUrls, isLearner, ctx) => {
      const member: MemberInfo = { id: 42n, name: '', peerUrls, clientUrls: [], isLearner };
      return this.answer('memberAdd', [peerUrls, isLearner], ctx, { member, members: [...this.members, member] });
    },
    memberRemove: (id, ctx) => this.answer('memberRemove', [id], ctx, this.members),
    memberUpdate: (id, peerUrls, ctx) => this.answer('memberUpdate', [id, peerUrls], ctx, this.members),
    memberPromote: (id, ctx) => this.answer('memberPromote', [id], ctx, this.members),
  };

  readonly maintenance: MaintenancePort = {
    status: (ctx) => this.answer('status', [], ctx, this.status),
    hash: (ctx) => this.answer('hash', [], ctx, 0xdeadbeef),
    hashKV: (revision, ctx) => this.answer('hashKV', [revision], ctx, { hash: 123, compactRevision: 23n }),
    snapshot: (ctx) => this.snapshotIterable(ctx),
    alarm: async (action, memberId, alarm, ctx) => (await this.answer('alarm', [action, memberId, alarm], ctx, [])).result,
    defragment: async (ctx) => {
      await this.answer('defragment', [], ctx, null);
    },
    moveLeader: async (targetId, ctx) => {
      await this.answer('moveLeader', [targetId], ctx, null);
    },
  };

  private async *snapshotIterable(ctx: RequestContext): AsyncIterable<Answer<SnapshotChunk>> {
    const header = await this.answer('snapshot', [], ctx, null);
    for (const chunk of this.snapshotChunks) yield { header: header.header, result: chunk };
  }

  /** Resolves with the next recorded call to `method`. */
  nextCall(method: string): Promise<RecordedCall> {
    return new Promise((resolve) => {
      const listener = (call: RecordedCall): void => {
        if (call.method !== method) return;
        this.off('call', listener);
        resolve(call);
      };
      this.on('call', listener);
    });
  }
}
