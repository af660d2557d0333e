import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as path from 'node:path';
import { ClientServer } from '../../src/api/client-server';
import { silentLogger } from '../../src/log';
import { projectRoot, protoDir } from '../../src/paths';
import { FakeMember } from './fake-member';

/** etcd's own protos, as bundled with the etcd3 npm client (etcd 3.5 definitions). */
export function etcdProtoPath(): string {
  return path.join(projectRoot(), 'node_modules', 'etcd3', 'proto', 'rpc.proto');
}

/** The loader options etcd3 itself uses. */
export const ETCD3_LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

type ClientConstructor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;

export interface EtcdClients {
  kv: grpc.Client;
  watch: grpc.Client;
  lease: grpc.Client;
  cluster: grpc.Client;
  maintenance: grpc.Client;
  auth: grpc.Client;
  health: grpc.Client;
  close(): void;
}

export function etcdClients(address: string): EtcdClients {
  const definition = protoLoader.loadSync(etcdProtoPath(), ETCD3_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { etcdserverpb: Record<string, ClientConstructor> };
  const healthDefinition = protoLoader.loadSync('grpc/health/v1/health.proto', { ...ETCD3_LOADER_OPTIONS, includeDirs: [protoDir()] });
  const health = grpc.loadPackageDefinition(healthDefinition) as unknown as { grpc: { health: { v1: Record<string, ClientConstructor> } } };
  const credentials = grpc.credentials.createInsecure();
  const make = (ctor: ClientConstructor): grpc.Client => new ctor(address, credentials);
  const clients = {
    kv: make(pkg.etcdserverpb.KV!),
    watch: make(pkg.etcdserverpb.Watch!),
    lease: make(pkg.etcdserverpb.Lease!),
    cluster: make(pkg.etcdserverpb.Cluster!),
    maintenance: make(pkg.etcdserverpb.Maintenance!),
    auth: make(pkg.etcdserverpb.Auth!),
    health: make(health.grpc.health.v1.Health!),
  };
  return {
    ...clients,
    close: () => {
      for (const client of Object.values(clients)) client.close();
    },
  };
}

export interface Running {
  member: FakeMember;
  server: ClientServer;
  address: string;
  clients: EtcdClients;
  stop(): Promise<void>;
}

export async function startServer(member: FakeMember = new FakeMember(), watchMaxBufferedBytes?: number): Promise<Running> {
  const server = new ClientServer(member, silentLogger(), watchMaxBufferedBytes === undefined ? {} : { watchMaxBufferedBytes });
  await server.listen(['http://127.0.0.1:0']);
  const address = `127.0.0.1:${server.ports[0]!}`;
  const clients = etcdClients(address);
  return {
    member,
    server,
    address,
    clients,
    stop: async () => {
      clients.close();
      await server.close();
    },
  };
}

/** A unary call as a promise (the dynamic client has no typings). */
export function unary<T = Record<string, unknown>>(client: grpc.Client, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: T) => void) => void>)[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    fn.call(client, request, metadata, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** The rejection of a promise that must fail, as a grpc ServiceError. */
export async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** Calls `path` with raw request bytes and returns the status (to send garbage or huge frames). */
export function rawCall(address: string, methodPath: string, payload: Buffer, options: grpc.ChannelOptions = {}): Promise<grpc.StatusObject & { response?: Buffer }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, ...options });
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      methodPath,
      (b: Buffer) => b,
      (b: Buffer) => b,
      payload,
      (err, response) => {
        client.close();
        if (err) resolve({ code: err.code, details: err.details, metadata: err.metadata });
        else resolve({ code: grpc.status.OK, details: '', metadata: new grpc.Metadata(), response });
      },
    );
  });
}
