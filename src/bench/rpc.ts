import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '../paths';

/**
 * Raw gRPC access to the etcd v3 API for the benchmark, from the repository's protos. No
 * retries, no failover: the benchmark measures the server, and a failed call is an error
 * in the report. 64-bit integers are decimal strings, enums numbers, bytes Buffers.
 */

/** Decoded wire message: proto-loader objects are untyped by nature. */
export type Wire = Record<string, any>;

export type ServiceName = 'KV' | 'Watch' | 'Lease' | 'Maintenance' | 'Cluster' | 'Lock';

/** The proto package each service lives in (etcd's lock service has its own). */
const PACKAGE_OF: Record<ServiceName, string> = {
  KV: 'etcdserverpb',
  Watch: 'etcdserverpb',
  Lease: 'etcdserverpb',
  Maintenance: 'etcdserverpb',
  Cluster: 'etcdserverpb',
  Lock: 'v3lockpb',
};

let cachedDefinition: protoLoader.PackageDefinition | undefined;

function definitions(): protoLoader.PackageDefinition {
  if (cachedDefinition !== undefined) return cachedDefinition;
  const dir = protoDir();
  cachedDefinition = protoLoader.loadSync([path.join(dir, 'etcdserverpb', 'rpc.proto'), path.join(dir, 'v3lockpb', 'v3lock.proto')], {
    keepCase: true,
    longs: String,
    enums: Number,
    bytes: Buffer,
    defaults: true,
    oneofs: true,
    includeDirs: [dir],
  });
  return cachedDefinition;
}

function method(service: ServiceName, name: string): protoLoader.MethodDefinition<Wire, Wire> {
  const fullName = `${PACKAGE_OF[service]}.${service}`;
  const found = (definitions()[fullName] as protoLoader.ServiceDefinition | undefined)?.[name];
  if (found === undefined) throw new Error(`unknown method ${fullName}/${name}`);
  return found as protoLoader.MethodDefinition<Wire, Wire>;
}

/** Strips a scheme: grpc-js wants host:port. */
export function toAddress(endpoint: string): string {
  const match = /^(?:https?):\/\/(.+?)\/?$/.exec(endpoint.trim());
  return match !== null ? match[1]! : endpoint.trim();
}

const DEFAULT_DEADLINE_MS = 30_000;
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** One gRPC channel to one endpoint. */
export class Channel {
  private readonly client: grpc.Client;

  constructor(readonly endpoint: string) {
    this.client = new grpc.Client(toAddress(endpoint), grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      // Distinct channels even to the same address (grpc-js shares subchannels otherwise).
      'grpc.use_local_subchannel_pool': 1,
      // No channelz tracing: the client's CPU is shared with the members on this machine.
      'grpc.enable_channelz': 0,
    });
  }

  unary(service: ServiceName, name: string, request: Wire, deadlineMs = DEFAULT_DEADLINE_MS): Promise<Wire> {
    const definition = method(service, name);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Wire, Wire>(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + deadlineMs },
        (error, response) => {
          if (error !== null) reject(error);
          else if (response === undefined) reject(new Error(`${name}: empty response`));
          else resolve(response);
        },
      );
    });
  }

  /** A bidi stream with `hasleader: true`, as etcd's clients open watch and keepalive streams. */
  stream(service: ServiceName, name: string): grpc.ClientDuplexStream<Wire, Wire> {
    const definition = method(service, name);
    const metadata = new grpc.Metadata();
    metadata.set('hasleader', 'true');
    return this.client.makeBidiStreamRequest<Wire, Wire>(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      metadata,
      {},
    );
  }

  close(): void {
    this.client.close();
  }
}

/** `conns` channels spread round-robin over the endpoints; worker w uses channel w mod conns. */
export class ChannelPool {
  readonly channels: Channel[];

  constructor(endpoints: string[], conns: number) {
    if (endpoints.length === 0) throw new Error('at least one endpoint is required');
    if (!Number.isInteger(conns) || conns < 1) throw new Error(`--conns must be a positive integer, got ${conns}`);
    this.channels = Array.from({ length: conns }, (_unused, i) => new Channel(endpoints[i % endpoints.length]!));
  }

  forWorker(worker: number): Channel {
    return this.channels[worker % this.channels.length]!;
  }

  close(): void {
    for (const channel of this.channels) channel.close();
  }
}
