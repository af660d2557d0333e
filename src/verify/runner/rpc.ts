import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '../../paths';

/**
 * The etcd v3 calls the verify runner makes, as an ordinary etcd client (so the same run works
 * against etcd 3.4). One client per endpoint; every call has a deadline. Enum values are sent
 * as numbers (proto-loader drops unknown enum names silently).
 */

/** Decoded wire message: proto-loader objects are untyped by nature. */
export type Wire = Record<string, any>;

export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

type UnaryMethod = (
  request: Wire,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: Wire) => void,
) => grpc.ClientUnaryCall;

interface Packages {
  etcd: grpc.GrpcObject;
  lock: grpc.GrpcObject;
  election: grpc.GrpcObject;
}
let cached: Packages | undefined;

function packages(): Packages {
  if (cached !== undefined) return cached;
  const options: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protoDir()] };
  const load = (file: string): grpc.GrpcObject => grpc.loadPackageDefinition(protoLoader.loadSync(path.join(protoDir(), file), options));
  cached = {
    etcd: load('etcdserverpb/rpc.proto').etcdserverpb as grpc.GrpcObject,
    lock: load('v3lockpb/v3lock.proto').v3lockpb as grpc.GrpcObject,
    election: load('v3electionpb/v3election.proto').v3electionpb as grpc.GrpcObject,
  };
  return cached;
}

/** A failed call with its gRPC status code and message. */
export class CallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`gRPC ${code}: ${details}`);
    this.name = 'CallError';
  }

  /**
   * True when the request certainly never took effect: it was never sent (no connection) or
   * the server rejected it before proposing. Everything else (timeouts, leader changes,
   * connection lost mid-call) is indeterminate.
   */
  get definitelyFailed(): boolean {
    if (this.code === grpc.status.UNAVAILABLE && /ECONNREFUSED|No connection established/.test(this.details)) return true;
    return (
      this.code === grpc.status.INVALID_ARGUMENT ||
      this.code === grpc.status.FAILED_PRECONDITION ||
      this.code === grpc.status.NOT_FOUND ||
      this.code === grpc.status.OUT_OF_RANGE
    );
  }
}

export interface KeyValue {
  key: string;
  value: string;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  lease: bigint;
}

export interface RangeResult {
  revision: bigint;
  kvs: KeyValue[];
}

export interface TxnResult {
  revision: bigint;
  succeeded: boolean;
  /** Range results from the ops taken, in order (only for request_range ops). */
  ranges: KeyValue[][];
}

export interface MemberStatus {
  memberId: bigint;
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
}

function toKeyValue(kv: Wire): KeyValue {
  return {
    key: (kv.key as Buffer).toString('utf8'),
    value: (kv.value as Buffer).toString('utf8'),
    createRevision: BigInt(kv.create_revision),
    modRevision: BigInt(kv.mod_revision),
    version: BigInt(kv.version),
    lease: BigInt(kv.lease),
  };
}

export type Compare = { key: string; target: 'value'; value: string } | { key: string; target: 'mod'; modRevision: bigint } | { key: string; target: 'version'; version: bigint };
export type TxnOp = { put: { key: string; value: string; lease?: bigint } } | { range: { key: string } };

function compareToWire(compare: Compare): Wire {
  const base = { key: Buffer.from(compare.key), result: CompareResult.EQUAL };
  if (compare.target === 'value') return { ...base, target: CompareTarget.VALUE, value: Buffer.from(compare.value) };
  if (compare.target === 'mod') return { ...base, target: CompareTarget.MOD, mod_revision: compare.modRevision.toString() };
  return { ...base, target: CompareTarget.VERSION, version: compare.version.toString() };
}

function opToWire(op: TxnOp): Wire {
  if ('put' in op) return { request_put: { key: Buffer.from(op.put.key), value: Buffer.from(op.put.value), lease: (op.put.lease ?? 0n).toString() } };
  return { request_range: { key: Buffer.from(op.range.key) } };
}

export class EtcdRpc {
  private readonly kv: grpc.Client;
  private readonly maintenance: grpc.Client;
  private readonly leaseStub: grpc.Client;
  private readonly lockStub: grpc.Client;
  private readonly electionStub: grpc.Client;
  private readonly cluster: grpc.Client;
  private readonly watchStub: grpc.Client;

  constructor(
    readonly endpoint: string,
    private readonly deadlineMs = 2_000,
  ) {
    const pkgs = packages();
    const creds = grpc.credentials.createInsecure();
    // Fail fast while a member is down instead of queueing calls for the whole deadline.
    const options = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 };
    const make = (pkg: grpc.GrpcObject, name: string): grpc.Client => new (pkg[name] as grpc.ServiceClientConstructor)(endpoint, creds, options);
    this.kv = make(pkgs.etcd, 'KV');
    this.maintenance = make(pkgs.etcd, 'Maintenance');
    this.leaseStub = make(pkgs.etcd, 'Lease');
    this.cluster = make(pkgs.etcd, 'Cluster');
    this.watchStub = make(pkgs.etcd, 'Watch');
    this.lockStub = make(pkgs.lock, 'Lock');
    this.electionStub = make(pkgs.election, 'Election');
  }

  private call(stub: grpc.Client, method: string, request: Wire, deadlineMs = this.deadlineMs): Promise<Wire> {
    const fn = (stub as unknown as Record<string, UnaryMethod>)[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    return new Promise((resolve, reject) => {
      fn.call(stub, request, new grpc.Metadata(), { deadline: new Date(Date.now() + deadlineMs) }, (error, response) => {
        if (error) reject(new CallError(error.code, error.details || error.message));
        else resolve(response);
      });
    });
  }

  async range(key: string, options: { serializable?: boolean; revision?: bigint; prefix?: boolean } = {}): Promise<RangeResult> {
    const request: Wire = { key: Buffer.from(key), serializable: options.serializable === true, revision: (options.revision ?? 0n).toString() };
    if (options.prefix === true) request.range_end = prefixEnd(key);
    const response = await this.call(this.kv, 'Range', request);
    return { revision: BigInt(response.header.revision), kvs: (response.kvs as Wire[]).map(toKeyValue) };
  }

  async put(key: string, value: string, lease = 0n): Promise<bigint> {
    const response = await this.call(this.kv, 'Put', { key: Buffer.from(key), value: Buffer.from(value), lease: lease.toString() });
    return BigInt(response.header.revision);
  }

  async txn(compare: Compare[], success: TxnOp[], failure: TxnOp[] = []): Promise<TxnResult> {
    const response = await this.call(this.kv, 'Txn', { compare: compare.map(compareToWire), success: success.map(opToWire), failure: failure.map(opToWire) });
    const ranges = (response.responses as Wire[]).filter((r) => r.response_range).map((r) => (r.response_range.kvs as Wire[]).map(toKeyValue));
    return { revision: BigInt(response.header.revision), succeeded: response.succeeded === true, ranges };
  }

  async status(deadlineMs = 1_000): Promise<MemberStatus> {
    const r = await this.call(this.maintenance, 'Status', {}, deadlineMs);
    return {
      memberId: BigInt(r.header.member_id),
      leader: BigInt(r.leader),
      raftIndex: BigInt(r.raftIndex),
      raftTerm: BigInt(r.raftTerm),
      // etcd 3.4 reports raftAppliedIndex; fall back to raftIndex for servers that omit it.
      raftAppliedIndex: BigInt(r.raftAppliedIndex ?? r.raftIndex),
    };
  }

  async moveLeader(targetId: bigint): Promise<void> {
    await this.call(this.maintenance, 'MoveLeader', { targetID: targetId.toString() }, 5_000);
  }

  async memberList(): Promise<Array<{ id: bigint; name: string; peerUrls: string[]; isLearner: boolean }>> {
    const r = await this.call(this.cluster, 'MemberList', {});
    return (r.members as Wire[]).map((m) => ({ id: BigInt(m.ID), name: String(m.name), peerUrls: m.peerURLs as string[], isLearner: m.isLearner === true }));
  }

  async memberAdd(peerUrl: string): Promise<bigint> {
    const r = await this.call(this.cluster, 'MemberAdd', { peerURLs: [peerUrl] }, 5_000);
    return BigInt(r.member.ID);
  }

  async memberRemove(id: bigint): Promise<void> {
    await this.call(this.cluster, 'MemberRemove', { ID: id.toString() }, 5_000);
  }

  async leaseGrant(ttlSeconds: number): Promise<bigint> {
    const r = await this.call(this.leaseStub, 'LeaseGrant', { TTL: String(ttlSeconds), ID: '0' });
    return BigInt(r.ID);
  }

  async leaseRevoke(id: bigint): Promise<void> {
    await this.call(this.leaseStub, 'LeaseRevoke', { ID: id.toString() });
  }

  async leaseTimeToLive(id: bigint): Promise<bigint> {
    const r = await this.call(this.leaseStub, 'LeaseTimeToLive', { ID: id.toString(), keys: false });
    return BigInt(r.TTL);
  }

  /** One keep-alive round trip on a short-lived stream; returns the new TTL (≤ 0: lease gone). */
  leaseKeepAliveOnce(id: bigint): Promise<bigint> {
    return new Promise((resolve, reject) => {
      const stream = (this.leaseStub as unknown as Record<string, (m: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<Wire, Wire>>).LeaseKeepAlive!.call(
        this.leaseStub,
        new grpc.Metadata(),
        { deadline: new Date(Date.now() + this.deadlineMs) },
      );
      let settled = false;
      stream.on('data', (response: Wire) => {
        if (settled) return;
        settled = true;
        resolve(BigInt(response.TTL));
        stream.cancel();
      });
      stream.on('error', (error: grpc.ServiceError) => {
        if (settled) return;
        settled = true;
        reject(new CallError(error.code, error.details || error.message));
      });
      stream.write({ ID: id.toString() });
    });
  }

  /** v3lock Lock: blocks until held (bounded by `deadlineMs`); returns the holder key's revision info. */
  async lock(name: string, lease: bigint, deadlineMs: number): Promise<{ key: string; revision: bigint }> {
    const r = await this.call(this.lockStub, 'Lock', { name: Buffer.from(name), lease: lease.toString() }, deadlineMs);
    return { key: (r.key as Buffer).toString('utf8'), revision: BigInt(r.header.revision) };
  }

  async unlock(key: string): Promise<void> {
    await this.call(this.lockStub, 'Unlock', { key: Buffer.from(key) });
  }

  /** Opens a watch stream from `startRevision` on a prefix; the caller owns the returned stream. */
  openWatch(prefix: string, startRevision: bigint): grpc.ClientDuplexStream<Wire, Wire> {
    const stream = (this.watchStub as unknown as Record<string, (m: grpc.Metadata) => grpc.ClientDuplexStream<Wire, Wire>>).Watch!.call(this.watchStub, new grpc.Metadata());
    stream.write({ create_request: { key: Buffer.from(prefix), range_end: prefixEnd(prefix), start_revision: startRevision.toString() } });
    return stream;
  }

  /** v3election Campaign: blocks until this candidate leads (bounded by `deadlineMs`). */
  async campaign(name: string, lease: bigint, value: string, deadlineMs: number): Promise<Wire> {
    const r = await this.call(this.electionStub, 'Campaign', { name: Buffer.from(name), lease: lease.toString(), value: Buffer.from(value) }, deadlineMs);
    return r.leader as Wire;
  }

  async resign(leader: Wire): Promise<void> {
    await this.call(this.electionStub, 'Resign', { leader });
  }

  /** v3election Observe: a stream of LeaderResponse; the caller owns (and cancels) it. */
  observe(name: string): grpc.ClientReadableStream<Wire> {
    const fn = (this.electionStub as unknown as Record<string, (req: Wire, m: grpc.Metadata) => grpc.ClientReadableStream<Wire>>).Observe!;
    return fn.call(this.electionStub, { name: Buffer.from(name) }, new grpc.Metadata());
  }

  close(): void {
    for (const stub of [this.kv, this.maintenance, this.leaseStub, this.cluster, this.watchStub, this.lockStub, this.electionStub]) stub.close();
  }
}

/** The range end that selects every key with this prefix. */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
