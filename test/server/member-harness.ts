import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MemberPort, RequestContext } from '../../src/api/member-port';
import { silentLogger } from '../../src/log';
import { openStorage } from '../../src/server/bootstrap';
import { ClusterService } from '../../src/server/cluster-service';
import { defaultConfig, type MemberConfig } from '../../src/server/config';
import { KvService } from '../../src/server/kv-service';
import { LeaseExpiry } from '../../src/server/lease-expiry';
import { LeaseService } from '../../src/server/lease-service';
import { MaintenanceService } from '../../src/server/maintenance-service';
import { Member } from '../../src/server/member';
import { WatchService } from '../../src/server/watch-service';
import { WatchHub } from '../../src/storage/mvcc/watch';
import type { RangeRequest } from '../../src/storage/mvcc/types';

export const ctx: RequestContext = { signal: new AbortController().signal, requireLeader: false };

export interface InProcessMember {
  port: MemberPort;
  member: Member;
  dataDir: string;
  stop(): Promise<void>;
}

/** A member built by hand (no gRPC), on a temp data dir, as the composition root wires it. */
export async function startInProcess(overrides: Partial<MemberConfig> = {}, dataDir?: string): Promise<InProcessMember> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-member-'));
  const config: MemberConfig = { ...defaultConfig(), name: 'm1', dataDir: dir, ...overrides };
  config.initialCluster = new Map([['m1', config.initialAdvertisePeerUrls]]);
  const logger = silentLogger();
  const opened = await openStorage(config, logger);
  const hub = new WatchHub({ history: opened.store, logger, progressIntervalMs: config.watchProgressNotifyIntervalMs });
  const clock = { nowMs: () => Date.now() };
  const member = new Member(config, opened, opened.store, hub, clock, logger, Math.random);
  member.restoreLeases();
  const expiry = new LeaseExpiry(member, clock, logger);
  const port: MemberPort = {
    kv: new KvService(member),
    lease: new LeaseService(member),
    watch: new WatchService(member, hub),
    cluster: new ClusterService(member, config.initialClusterToken, clock.nowMs),
    maintenance: new MaintenanceService(member, config.electionTimeoutMs),
    limits: { maxRequestBytes: config.maxRequestBytes, maxTxnOps: config.maxTxnOps },
  };
  member.start((err) => {
    throw err;
  });
  expiry.start();
  return {
    port,
    member,
    dataDir: dir,
    async stop() {
      expiry.stop();
      await member.stop();
      hub.close();
      await opened.store.close();
    },
  };
}

export function rangeOf(key: string, rangeEnd = '', extra: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key: Buffer.from(key),
    rangeEnd: Buffer.from(rangeEnd),
    limit: 0n,
    revision: 0n,
    sortOrder: 0,
    sortTarget: 0,
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0n,
    maxModRevision: 0n,
    minCreateRevision: 0n,
    maxCreateRevision: 0n,
    ...extra,
  };
}

export function putOf(key: string, value: string, lease = 0n) {
  return { key: Buffer.from(key), value: Buffer.from(value), lease, prevKv: false, ignoreValue: false, ignoreLease: false };
}
