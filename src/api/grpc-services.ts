import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { AUTH_DISABLED, type AuthGate } from '../auth/auth-gate';
import type { Logger } from '../log';
import { NO_METRICS, type MemberMetrics } from '../metrics/member-metrics';
import { authService } from './auth-service';
import { clusterService } from './cluster-service';
import { electionService } from './election-service';
import { healthService } from './health-service';
import { kvService } from './kv-service';
import { leaseService } from './lease-service';
import { lockService } from './lock-service';
import { maintenanceService } from './maintenance-service';
import type { MemberPort } from './member-port';
import { rawServiceDefinition, serviceDefinition, type MethodCodecOptions } from './method-codec';
import { OpenStreams } from './open-streams';
import { authorizedService, type AuthHook } from './unary-handler';
import { unimplementedHandlers } from './unimplemented-service';
import { watchService } from './watch-service';

/** etcd's grpcOverheadBytes: gRPC max receive = max-request-bytes + this. */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** Watch buffering per stream before a slow client is cut off. */
export const WATCH_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

export interface GrpcService {
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

/** 3.5-only methods that etcd3's bundled protos may call; etcd 3.4 answers UNIMPLEMENTED. */
const LATER_VERSION_METHODS: Record<string, string[]> = {
  'etcdserverpb.Maintenance': ['Downgrade'],
  'etcdserverpb.Auth': ['AuthStatus'],
};

export function maxReceiveBytes(member: MemberPort): number {
  return member.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES;
}

export interface GrpcServicesOptions {
  /** Collects the long-lived streams so a shutdown can end them. */
  openStreams?: OpenStreams;
  /** Bytes queued for one slow watch client before its stream is ended. */
  watchMaxBufferedBytes?: number;
  /** Where lock timings go (latchkey_lock_*). */
  metrics?: MemberMetrics;
  /** Users, roles and tokens: every RPC is checked against it (src/api/auth-policy.ts). Default: member.authGate, else auth off. */
  authGate?: AuthGate;
}

/** The auth policy's name for each service whose methods it covers (auth-policy.ts). */
const POLICY_SERVICE_NAMES: Record<string, string> = {
  'etcdserverpb.KV': 'KV',
  'etcdserverpb.Watch': 'Watch',
  'etcdserverpb.Lease': 'Lease',
  'etcdserverpb.Cluster': 'Cluster',
  'etcdserverpb.Maintenance': 'Maintenance',
  'etcdserverpb.Auth': 'Auth',
  'v3lockpb.Lock': 'Lock',
  'v3electionpb.Election': 'Election',
};

/** Every service the client port serves, with codecs and handlers bound to `member`. */
export function createGrpcServices(member: MemberPort, logger: Logger, options: GrpcServicesOptions = {}): GrpcService[] {
  const openStreams = options.openStreams ?? new OpenStreams();
  const authGate = options.authGate ?? member.authGate ?? AUTH_DISABLED;
  const codec: MethodCodecOptions = { maxReceiveBytes: maxReceiveBytes(member) };
  const definition = (name: string): ServiceDefinition => serviceDefinition(name, codec);
  const auth = definition('etcdserverpb.Auth');
  const lock = definition('v3lockpb.Lock');
  const election = definition('v3electionpb.Election');
  const services: GrpcService[] = [
    { name: 'etcdserverpb.KV', definition: definition('etcdserverpb.KV'), implementation: kvService(member, logger) },
    {
      name: 'etcdserverpb.Watch',
      definition: definition('etcdserverpb.Watch'),
      implementation: watchService(member, logger, {
        fragmentThresholdBytes: codec.maxReceiveBytes,
        maxBufferedBytes: options.watchMaxBufferedBytes ?? WATCH_MAX_BUFFERED_BYTES,
        openStreams,
        authGate,
      }),
    },
    { name: 'etcdserverpb.Lease', definition: definition('etcdserverpb.Lease'), implementation: leaseService(member, logger, openStreams) },
    { name: 'etcdserverpb.Cluster', definition: definition('etcdserverpb.Cluster'), implementation: clusterService(member, logger) },
    {
      name: 'etcdserverpb.Maintenance',
      definition: definition('etcdserverpb.Maintenance'),
      implementation: maintenanceService(member, logger),
    },
    { name: 'etcdserverpb.Auth', definition: auth, implementation: authService(auth, logger, member) },
    { name: 'v3lockpb.Lock', definition: lock, implementation: lockService(member, logger, openStreams, options.metrics ?? NO_METRICS, authGate) },
    { name: 'v3electionpb.Election', definition: election, implementation: electionService(member, logger, openStreams, authGate) },
    { name: 'grpc.health.v1.Health', definition: definition('grpc.health.v1.Health'), implementation: healthService(logger, openStreams) },
  ];
  // Every checked method goes through the auth hook (the gateway serves these same handlers).
  const hook: AuthHook = { gate: authGate, member, logger };
  for (const service of services) {
    const prefix = POLICY_SERVICE_NAMES[service.name];
    if (prefix !== undefined) service.implementation = authorizedService(prefix, service.definition, service.implementation, hook);
  }
  for (const [service, methods] of Object.entries(LATER_VERSION_METHODS)) {
    const raw = rawServiceDefinition(service, methods, codec);
    services.push({ name: `${service} (3.5-only)`, definition: raw, implementation: unimplementedHandlers(service, raw, logger) });
  }
  return services;
}
