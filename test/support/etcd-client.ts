import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { projectRoot } from '../../src/paths';

/**
 * A raw gRPC client for the etcd v3 API, built from etcd's own protos as shipped with the
 * etcd3 npm package (node_modules/etcd3/proto). Tests use it to send exactly the bytes a real
 * client would and to see exactly what came back (defaults:false, so absent fields are
 * absent; 64-bit integers are decimal strings; bytes are Buffers; enums are names).
 */

/**
 * etcd's enum values by their names in etcd's own .proto files. The etcd3 package's copy of
 * rpc.proto renames them (Descend, Mod, Noput, Put…), and proto-loader silently DROPS an enum
 * field given an unknown name, so requests should use these numbers. Decoded responses show
 * the etcd3 spelling (e.g. Event.type 'Put' / 'Delete').
 */
export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;
export const FilterType = { NOPUT: 0, NODELETE: 1 } as const;

/** Decoded wire message: proto-loader objects are untyped by nature. */
export type Wire = Record<string, any>;

/** A failed call: the gRPC status code and the status message (grpc-message). */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`gRPC ${code}: ${details}`);
    this.name = 'RpcError';
  }
}

export const SERVICES = ['KV', 'Watch', 'Lease', 'Cluster', 'Maintenance', 'Auth'] as const;
export type ServiceName = (typeof SERVICES)[number];

let cachedPackage: grpc.GrpcObject | undefined;

export function etcdProtoDir(): string {
  return path.join(projectRoot(), 'node_modules', 'etcd3', 'proto');
}

function etcdPackage(): grpc.GrpcObject {
  if (cachedPackage !== undefined) return cachedPackage;
  const definition = protoLoader.loadSync(path.join(etcdProtoDir(), 'rpc.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
    includeDirs: [etcdProtoDir()],
  });
  const loaded = grpc.loadPackageDefinition(definition);
  cachedPackage = loaded.etcdserverpb as grpc.GrpcObject;
  return cachedPackage;
}

const DEFAULT_DEADLINE_MS = 10_000;
/** Above etcd's 2 MiB receive limit, so oversized-request tests reach the server. */
const CLIENT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface CallOptions {
  deadlineMs?: number;
  metadata?: Record<string, string>;
}

type UnaryMethod = (
  request: Wire,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: Wire) => void,
) => grpc.ClientUnaryCall;

function toMetadata(values: Record<string, string> | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(values ?? {})) metadata.set(key, value);
  return metadata;
}

/** Client for one endpoint (`127.0.0.1:port`); one channel shared by all services. */
export class EtcdClient {
  private readonly stubs = new Map<ServiceName, grpc.Client>();
  private readonly channelOptions: grpc.ChannelOptions;

  constructor(readonly endpoint: string) {
    this.channelOptions = {
      'grpc.max_receive_message_length': CLIENT_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': CLIENT_MAX_MESSAGE_BYTES,
    };
  }

  private stub(service: ServiceName): grpc.Client {
    let stub = this.stubs.get(service);
    if (stub === undefined) {
      const ctor = etcdPackage()[service] as grpc.ServiceClientConstructor;
      stub = new ctor(this.endpoint, grpc.credentials.createInsecure(), this.channelOptions);
      this.stubs.set(service, stub);
    }
    return stub;
  }

  /** A unary call; rejects with RpcError carrying the status code and message. */
  call(service: ServiceName, method: string, request: Wire, options: CallOptions = {}): Promise<Wire> {
    const stub = this.stub(service) as unknown as Record<string, UnaryMethod | undefined>;
    const fn = stub[method];
    if (typeof fn !== 'function') throw new Error(`no method ${service}.${method} in rpc.proto`);
    const deadline = new Date(Date.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS));
    return new Promise((resolve, reject) => {
      fn.call(stub, request, toMetadata(options.metadata), { deadline }, (error, response) => {
        if (error) reject(new RpcError(error.code, error.details));
        else resolve(response);
      });
    });
  }

  range(request: Wire, options?: CallOptions): Promise<Wire> {
    return this.call('KV', 'Range', request, options);
  }
  put(request: Wire, options?: CallOptions): Promise<Wire> {
    return this.call('KV', 'Put', request, options);
  }
  deleteRange(request: Wire, options?: CallOptions): Promise<Wire> {
    return this.call('KV', 'DeleteRange', request, options);
  }
  txn(request: Wire, options?: CallOptions): Promise<Wire> {
    return this.call('KV', 'Txn', request, options);
  }
  compact(request: Wire, options?: CallOptions): Promise<Wire> {
    return this.call('KV', 'Compact', request, options);
  }
  leaseGrant(request: Wire, options?: CallOptions): Promise<Wire> {
    return this.call('Lease', 'LeaseGrant', request, options);
  }
  leaseRevoke(request: Wire, options?: CallOptions): Promise<Wire> {
    return this.call('Lease', 'LeaseRevoke', request, options);
  }
  leaseTimeToLive(request: Wire, options?: CallOptions): Promise<Wire> {
    return this.call('Lease', 'LeaseTimeToLive', request, options);
  }
  leaseLeases(options?: CallOptions): Promise<Wire> {
    return this.call('Lease', 'LeaseLeases', {}, options);
  }
  status(options?: CallOptions): Promise<Wire> {
    return this.call('Maintenance', 'Status', {}, options);
  }
  memberList(options?: CallOptions): Promise<Wire> {
    return this.call('Cluster', 'MemberList', {}, options);
  }

  /** The Watch bidi stream, wrapped in a queue of received messages. */
  watchStream(metadata?: Record<string, string>): BidiStream {
    const stub = this.stub('Watch') as unknown as { Watch(md: grpc.Metadata): grpc.ClientDuplexStream<Wire, Wire> };
    return new BidiStream(stub.Watch(toMetadata(metadata)));
  }

  /** The LeaseKeepAlive bidi stream, wrapped in a queue of received messages. */
  keepAliveStream(metadata?: Record<string, string>): BidiStream {
    const stub = this.stub('Lease') as unknown as {
      LeaseKeepAlive(md: grpc.Metadata): grpc.ClientDuplexStream<Wire, Wire>;
    };
    return new BidiStream(stub.LeaseKeepAlive(toMetadata(metadata)));
  }

  close(): void {
    for (const stub of this.stubs.values()) stub.close();
    this.stubs.clear();
  }
}

/** Received messages beyond this are a runaway stream in a test: fail loudly. */
const MAX_QUEUED_MESSAGES = 10_000;

/**
 * A stream's incoming messages, queued so a test can await them one by one with `next()`
 * without racing the 'data' events. Works for server streams and bidi streams alike.
 */
export class MessageQueue<Raw extends grpc.ClientReadableStream<Wire> | grpc.ClientDuplexStream<Wire, Wire>> {
  private readonly queue: Wire[] = [];
  private waiter: { resolve: () => void } | undefined;
  private ended = false;
  private failure: RpcError | undefined;

  constructor(readonly raw: Raw) {
    raw.on('data', (message: Wire) => {
      if (this.queue.length >= MAX_QUEUED_MESSAGES) throw new Error('stream queue overflow in test');
      this.queue.push(message);
      this.wake();
    });
    raw.on('error', (error: grpc.ServiceError) => {
      this.failure = new RpcError(error.code, error.details);
      this.wake();
    });
    raw.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve();
  }

  /** The next message, waiting at most timeoutMs; rejects on timeout, stream error or end. */
  async next(timeoutMs = 5_000): Promise<Wire> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.queue.shift();
      if (message !== undefined) return message;
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) throw new Error('stream ended');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no stream message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = {
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    }
  }

  /** Messages that arrive within `windowMs` (used to assert that nothing more is sent). */
  async drain(windowMs: number): Promise<Wire[]> {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    return this.queue.splice(0, this.queue.length);
  }

  /** Messages queued right now (after the caller made sure anything pending has arrived). */
  pending(): Wire[] {
    return this.queue.slice();
  }

  /** Cancels the call; no more messages are delivered. */
  close(): void {
    this.raw.removeAllListeners('data');
    this.raw.on('error', () => undefined);
    this.raw.cancel();
  }
}

/** A bidi stream: `send` requests, await responses with `next()`. */
export class BidiStream extends MessageQueue<grpc.ClientDuplexStream<Wire, Wire>> {
  send(message: Wire): void {
    this.raw.write(message);
  }

  /** Stop sending and cancel the call; no more messages are delivered. */
  override close(): void {
    this.raw.end();
    super.close();
  }
}

/** etcd's prefix convention: increment the last byte < 0xff, drop the rest; all-0xff → "\0". */
export function prefixEnd(prefix: Buffer | string): Buffer {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}
