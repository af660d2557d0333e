import 'reflect-metadata';
import { container, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { MemberPort } from '../api/member-port';
import { ClientServer } from '../api';
import type { Logger } from '../log';
import { WatchHub } from '../storage/mvcc/watch';
import { openStorage, type OpenedStorage } from './bootstrap';
import { ClusterService } from './cluster-service';
import type { MemberConfig } from './config';
import { KvService } from './kv-service';
import { LeaseExpiry } from './lease-expiry';
import { LeaseService } from './lease-service';
import { MaintenanceService } from './maintenance-service';
import { Member, type Clock } from './member';
import { WatchService } from './watch-service';

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
} as const;

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
    Tokens.Member,
    singleton((c) => {
      const storage = c.resolve<OpenedStorage>(Tokens.Storage);
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
        lease: new LeaseService(member, c.resolve<Clock>(Tokens.Clock)),
        watch: new WatchService(member, c.resolve<WatchHub>(Tokens.WatchHub)),
        cluster: new ClusterService(member),
        maintenance: new MaintenanceService(member),
        limits: { maxRequestBytes: cfg.maxRequestBytes, maxTxnOps: cfg.maxTxnOps },
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
    Tokens.ClientServer,
    singleton((c) => new ClientServer(c.resolve<MemberPort>(Tokens.MemberPort), c.resolve<Logger>(Tokens.Logger))),
  );
}

/**
 * The composition root: opens storage, wires every component, starts the Raft loop and the
 * client listener. The returned stop() is the graceful shutdown SIGTERM runs.
 */
export async function buildMember(config: MemberConfig, logger: Logger): Promise<RunningMember> {
  const opened = await openStorage(config, logger);
  const scope = container.createChildContainer();
  register(scope, config, logger, opened);
  const member = scope.resolve<Member>(Tokens.Member);
  const server = scope.resolve<ClientServer>(Tokens.ClientServer);
  const expiry = scope.resolve<LeaseExpiry>(Tokens.LeaseExpiry);
  const hub = scope.resolve<WatchHub>(Tokens.WatchHub);

  member.restoreLeases();
  member.membership.publishLocal(config.name, config.advertiseClientUrls);
  member.start((err) => {
    logger.fatal({ err }, 'member failed');
    process.exit(1);
  });
  await server.listen(config.listenClientUrls);
  expiry.start();
  logger.info({ clientUrls: config.listenClientUrls, dataDir: config.dataDir }, 'serving client requests');

  return {
    member,
    async stop(): Promise<void> {
      await server.close();
      expiry.stop();
      await member.stop();
      hub.close();
      await opened.store.close();
    },
  };
}
