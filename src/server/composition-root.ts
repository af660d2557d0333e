import 'reflect-metadata';
import { container, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { MemberPort } from '../api/member-port';
import { Errors } from '../errors';
import { ClientServer } from '../api';
import type { Logger } from '../log';
import { MetricsRegistry } from '../metrics';
import { WatchHub } from '../storage/mvcc/watch';
import { openStorage, type ClusterDiscovery, type OpenedStorage } from './bootstrap';
import { MemberPeerHandler } from './peer-handler';
import { GrpcPeerTransport } from '../transport';
import type { PeerHandler, PeerTransport } from '../transport/types';
import { ClusterService } from './cluster-service';
import type { MemberConfig } from './config';
import { KvService } from './kv-service';
import { LeaseExpiry } from './lease-expiry';
import { LeaseService } from './lease-service';
import { MaintenanceService } from './maintenance-service';
import { Member, type Clock } from './member';
import { WatchService } from './watch-service';
import { AutoCompactor, parseAutoCompaction, type AutoCompactionPolicy } from './auto-compaction';
import { attachAuthStore, type AuthStore } from '../auth/auth-store';
import { AuthService } from './auth-service';
import { ConfigError } from './config';
import { prepareMemberTls, type MemberTls } from '../tls/member-tls';
import type { PeerTlsSettings } from '../tls/peer-tls';

/** Injection tokens: classes stay free of the container; only this file knows it. */
const Tokens = {
  Config: Symbol('MemberConfig'),
  Logger: Symbol('Logger'),
  Storage: Symbol('OpenedStorage'),
  Clock: Symbol('Clock'),
  Random: Symbol('Random'),
  WatchHub: Symbol('WatchHub'),
  Member: Symbol('Member'),
  MemberPort: Symbol('MemberPort'),
  LeaseExpiry: Symbol('LeaseExpiry'),
  ClientServer: Symbol('ClientServer'),
  Transport: Symbol('PeerTransport'),
  AuthStore: Symbol('AuthStore'),
  Tls: Symbol('MemberTls'),
} as const;

/** What the process running the member is told about the member's end. */
export interface MemberLifecycle {
  /** The Raft loop failed: the process must exit non-zero. */
  onFatal(err: unknown): void;
  /** This member applied its own removal from the cluster: it stops itself. */
  onRemoved(): void;
}

/** A transport used only to ask running members about the cluster before this one exists. */
const discoveryOnly: PeerHandler = {
  onRaftMessage: () => undefined,
  onSnapshot: async () => {
    throw new Error('not a member yet');
  },
  onUnreachable: () => undefined,
  onSnapshotStatus: () => undefined,
  leaseKeepAlive: async () => 0n,
  leaseTimeToLive: () => {
    throw Errors.notLeader();
  },
  clusterInfo: () => ({ clusterId: 0n, members: [] }),
};

function discoverCluster(logger: Logger, peerTls: PeerTlsSettings): ClusterDiscovery {
  return async (peerUrls) => {
    // Only the dialing half: the probe never listens.
    const probe = new GrpcPeerTransport(0n, 0n, discoveryOnly, logger, peerTls.client === undefined ? {} : { tls: { client: peerTls.client } });
    try {
      return await probe.fetchClusterInfo(peerUrls, AbortSignal.timeout(15_000));
    } finally {
      await probe.close();
    }
  };
}

export interface RunningMember {
  member: Member;
  stop(): Promise<void>;
}

function register(scope: DependencyContainer, config: MemberConfig, logger: Logger, opened: OpenedStorage): void {
  const singleton = <T>(make: (c: DependencyContainer) => T) => ({ useFactory: instanceCachingFactory<T>(make) });
  scope.register(Tokens.Config, { useValue: config });
  scope.register(Tokens.Logger, { useValue: logger });
  scope.register(Tokens.Storage, { useValue: opened });
  scope.register<Clock>(Tokens.Clock, { useValue: { nowMs: () => Date.now() } });
  scope.register<() => number>(Tokens.Random, { useValue: Math.random });
  scope.register(
    Tokens.WatchHub,
    singleton(
      (c) =>
        new WatchHub({
          history: c.resolve<OpenedStorage>(Tokens.Storage).store,
          logger: c.resolve<Logger>(Tokens.Logger),
          progressIntervalMs: c.resolve<MemberConfig>(Tokens.Config).watchProgressNotifyIntervalMs,
        }),
    ),
  );
  scope.register(
    Tokens.AuthStore,
    singleton((c) =>
      attachAuthStore(c.resolve<OpenedStorage>(Tokens.Storage).store, {
        tokenTtlSeconds: c.resolve<MemberConfig>(Tokens.Config).authTokenTtlSeconds,
        logger: c.resolve<Logger>(Tokens.Logger).child({ component: 'auth' }),
      }),
    ),
  );
  scope.register(
    Tokens.Member,
    singleton((c) => {
      const storage = c.resolve<OpenedStorage>(Tokens.Storage);
      // Attached to the store before the member's applier looks it up.
      c.resolve<AuthStore>(Tokens.AuthStore);
      return new Member(
        c.resolve<MemberConfig>(Tokens.Config),
        storage,
        storage.store,
        c.resolve<WatchHub>(Tokens.WatchHub),
        c.resolve<Clock>(Tokens.Clock),
        c.resolve<Logger>(Tokens.Logger),
        c.resolve<() => number>(Tokens.Random),
      );
    }),
  );
  scope.register(
    Tokens.MemberPort,
    singleton<MemberPort>((c) => {
      const member = c.resolve<Member>(Tokens.Member);
      const cfg = c.resolve<MemberConfig>(Tokens.Config);
      return {
        kv: new KvService(member),
        lease: new LeaseService(member),
        watch: new WatchService(member, c.resolve<WatchHub>(Tokens.WatchHub)),
        cluster: new ClusterService(member, cfg.initialClusterToken, () => c.resolve<Clock>(Tokens.Clock).nowMs()),
        maintenance: new MaintenanceService(member, cfg.electionTimeoutMs),
        limits: { maxRequestBytes: cfg.maxRequestBytes, maxTxnOps: cfg.maxTxnOps },
        auth: new AuthService(member, c.resolve<AuthStore>(Tokens.AuthStore), cfg.bcryptCost),
        authGate: c.resolve<AuthStore>(Tokens.AuthStore),
      };
    }),
  );
  scope.register(
    Tokens.LeaseExpiry,
    singleton(
      (c) =>
        new LeaseExpiry(c.resolve<Member>(Tokens.Member), c.resolve<Clock>(Tokens.Clock), c.resolve<Logger>(Tokens.Logger).child({ component: 'lease' })),
    ),
  );
  scope.register(
    Tokens.Transport,
    singleton<PeerTransport>((c) => {
      const member = c.resolve<Member>(Tokens.Member);
      const handler = new MemberPeerHandler(member);
      const storage = c.resolve<OpenedStorage>(Tokens.Storage);
      // Received snapshots land beside the data, so keeping one is a rename, not a copy.
      return new GrpcPeerTransport(member.id, member.membership.clusterId, handler, c.resolve<Logger>(Tokens.Logger), {
        snapshotDirectory: storage.snapDir,
        tls: c.resolve<MemberTls>(Tokens.Tls).peer,
      });
    }),
  );
  scope.register(
    Tokens.ClientServer,
    singleton((c) => {
      const metrics = new MetricsRegistry();
      const port = c.resolve<MemberPort>(Tokens.MemberPort);
      metrics.attachMember(port);
      c.resolve<Member>(Tokens.Member).metrics = metrics;
      const cfg = c.resolve<MemberConfig>(Tokens.Config);
      const clientTls = c.resolve<MemberTls>(Tokens.Tls).client;
      return new ClientServer(port, c.resolve<Logger>(Tokens.Logger), {
        metrics,
        ...(clientTls === undefined ? {} : { tls: clientTls }),
        limits: {
          maxConcurrentStreams: cfg.maxConcurrentStreams,
          keepaliveIntervalMs: cfg.grpcKeepaliveIntervalMs,
          keepaliveTimeoutMs: cfg.grpcKeepaliveTimeoutMs,
          keepaliveMinTimeMs: cfg.grpcKeepaliveMinTimeMs,
        },
      });
    }),
  );
}

/**
 * The composition root: opens storage, wires every component, starts the Raft loop and the
 * client listener. The returned stop() is the graceful shutdown SIGTERM runs.
 */
export async function buildMember(config: MemberConfig, logger: Logger, lifecycle: MemberLifecycle): Promise<RunningMember> {
  // A bad retention must stop the start before anything is opened or listening.
  const compactionPolicy = parseAutoCompaction(config.autoCompactionMode, config.autoCompactionRetention);
  if (config.authToken.split(',')[0] !== 'simple') {
    throw new ConfigError(`--auth-token: "${config.authToken}" is not supported; latchkey issues simple tokens only (--auth-token simple)`);
  }
  // TLS flags are checked (and auto-TLS certificates made) before anything is opened.
  const memberTls = await prepareMemberTls(config, logger);
  const opened = await openStorage(config, logger, discoverCluster(logger, memberTls.peer));
  const scope = container.createChildContainer();
  register(scope, config, logger, opened);
  scope.register(Tokens.Tls, { useValue: memberTls });
  const member = scope.resolve<Member>(Tokens.Member);
  const server = scope.resolve<ClientServer>(Tokens.ClientServer);
  const transport = scope.resolve<PeerTransport>(Tokens.Transport);
  const expiry = scope.resolve<LeaseExpiry>(Tokens.LeaseExpiry);
  const hub = scope.resolve<WatchHub>(Tokens.WatchHub);

  member.restoreLeases();
  member.membership.publishLocal(config.name, config.advertiseClientUrls);
  await transport.start(config.listenPeerUrls);
  member.attachTransport(transport);
  member.start(lifecycle.onFatal, lifecycle.onRemoved);
  await server.listen(config.listenClientUrls);
  await server.listenMetrics(config.listenMetricsUrls);
  expiry.start();
  const compactor = compactionPolicy === undefined ? undefined : startAutoCompaction(compactionPolicy, member, logger);
  void member.publishAttributes(config.name, config.advertiseClientUrls);
  logger.info({ clientUrls: config.listenClientUrls, peerUrls: config.listenPeerUrls, dataDir: config.dataDir }, 'serving');

  let stopping: Promise<void> | undefined;
  return {
    member,
    stop(): Promise<void> {
      stopping ??= (async () => {
        await server.close();
        expiry.stop();
        compactor?.stop();
        await member.stop();
        scope.resolve<AuthStore>(Tokens.AuthStore).close();
        await transport.close();
        hub.close();
        await opened.store.close();
      })();
      return stopping;
    },
  };
}

/** --auto-compaction-*: the leader proposes Compact as the retention policy says (none when 0). */
function startAutoCompaction(policy: AutoCompactionPolicy, member: Member, logger: Logger): AutoCompactor {
  const compactor = new AutoCompactor(
    {
      isLeader: () => member.isLeader(),
      currentRevision: () => member.store.currentRevision(),
      compactedRevision: () => member.store.compactedRevision(),
      compact: async (revision) => {
        await member.propose({ kind: 'compaction', compaction: { revision, physical: false } }, { signal: AbortSignal.timeout(10_000), requireLeader: true });
      },
    },
    policy,
    logger.child({ component: 'compactor' }),
  );
  compactor.start(() => Date.now());
  return compactor;
}
