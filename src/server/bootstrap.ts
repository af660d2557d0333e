import * as fs from 'node:fs';
import { MemoryStorage } from '../consensus';
import { ConfChangeType, EntryType, type ConfState, type Entry, type HardState } from '../consensus/types';
import { encodeConfChange } from '../consensus';
import { encodeConfChangeContext } from './conf-change-context';
import type { MemberInfo } from '../api/member-port';
import type { Logger } from '../log';
import { MvccStore } from '../storage/mvcc';
import { Snapshotter } from '../storage/snap';
import { Wal } from '../storage/wal';
import type { MemberConfig } from './config';
import { computeClusterId, computeMemberId, decodeMembers, encodeMembers } from './membership';
import { MEMBERS_META, storageLayout } from './storage-layout';
import { ReceivedSnapshotFiles } from './snapshot-files';
import { decodeWalMetadata, encodeWalMetadata } from './wal-metadata';


/** Everything a member needs from disk to start its Raft node. */
export interface OpenedStorage {
  memberId: bigint;
  clusterId: bigint;
  members: MemberInfo[];
  store: MvccStore;
  wal: Wal;
  snapshotter: Snapshotter;
  raftStorage: MemoryStorage;
  /** Index of the snapshot the log starts after (0 = none). */
  snapshotIndex: bigint;
  confState: ConfState;
  hardState: HardState;
  /** True when this start created the data dir: the Raft node must be bootstrapped. */
  isNew: boolean;
  snapDir: string;
}

/**
 * A new cluster's log starts, as etcd's does, with one committed AddNode entry per initial
 * member (term 1). Applying them gives the Raft node its voters, on the first start and on
 * every replay after a restart.
 */
async function appendBootstrapEntries(wal: Wal, raftStorage: MemoryStorage, members: MemberInfo[]): Promise<HardState> {
  const entries: Entry[] = members.map((m, i) => ({
    term: 1n,
    index: BigInt(i + 1),
    type: EntryType.ConfChange,
    data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId: m.id, context: encodeConfChangeContext({ requestId: 0n, member: m }) }),
  }));
  const hardState: HardState = { term: 1n, vote: 0n, commit: BigInt(entries.length) };
  await wal.save(hardState, entries);
  raftStorage.append(entries);
  raftStorage.setHardState(hardState);
  return hardState;
}

function initialMembers(config: MemberConfig): MemberInfo[] {
  return [...config.initialCluster.entries()].map(([name, peerUrls]) => ({
    id: computeMemberId(peerUrls, config.initialClusterToken),
    name,
    peerUrls,
    clientUrls: [],
    isLearner: false,
  }));
}

/**
 * Opens the data dir: a new member creates its WAL (with member and cluster ids) and
 * records the initial membership; a restarting one loads its newest snapshot, replays the
 * WAL after it, and finds LMDB at its consistent index.
 */
/** Asks members of a running cluster who is in it (for --initial-cluster-state existing). */
export type ClusterDiscovery = (peerUrls: string[]) => Promise<{ clusterId: bigint; members: MemberInfo[] }>;

export async function openStorage(config: MemberConfig, logger: Logger, discover?: ClusterDiscovery): Promise<OpenedStorage> {
  const layout = storageLayout(config.dataDir);
  fs.mkdirSync(layout.memberDir, { recursive: true, mode: 0o700 });
  // Received snapshots are written straight into the snap dir, so it must exist first.
  fs.mkdirSync(layout.snapDir, { recursive: true, mode: 0o700 });
  const store = MvccStore.open(layout.dbDir, { logger: logger.child({ component: 'mvcc' }), maxTxnOps: config.maxTxnOps });
  const snapshotter = new Snapshotter(layout.snapDir, logger.child({ component: 'snap' }));
  // The WAL names its own component in its log lines.
  const walOptions = { segmentBytes: config.walSegmentBytes, logger };
  const raftStorage = new MemoryStorage();

  if (!Wal.exists(layout.walDir)) {
    if (config.initialClusterState === 'existing') {
      return joinExistingCluster(config, logger, { store, snapshotter, raftStorage, layout, walOptions }, discover);
    }
    const members = initialMembers(config);
    const local = members.find((m) => m.name === config.name);
    if (local === undefined) throw new Error(`member ${config.name} is not in --initial-cluster`);
    const clusterId = computeClusterId(members.map((m) => m.id));
    const wal = await Wal.create(layout.walDir, encodeWalMetadata({ memberId: local.id, clusterId }), walOptions);
    store.write((w) => w.putMeta(MEMBERS_META, encodeMembers(members)));
    const hardState = await appendBootstrapEntries(wal, raftStorage, members);
    logger.info({ memberId: local.id.toString(16), clusterId: clusterId.toString(16) }, 'starting a new member');
    return {
      memberId: local.id, clusterId, members, store, wal, snapshotter, raftStorage,
      snapshotIndex: 0n, confState: { voters: [], learners: [] }, hardState, isNew: true, snapDir: layout.snapDir,
    };
  }

  const markers = await Wal.snapshotMarkers(layout.walDir);
  const hasMarker = (m: { index: bigint; term: bigint }): boolean => markers.some((k) => k.index === m.index && k.term === m.term);
  const snapshot = await snapshotter.loadNewest(hasMarker);
  const { wal, recovery } = await Wal.open(layout.walDir, snapshot?.metadata, walOptions);
  const meta = decodeWalMetadata(recovery.metadata);
  let confState: ConfState = { voters: [], learners: [] };
  if (snapshot !== undefined) {
    raftStorage.applySnapshot({ metadata: snapshot.metadata, data: snapshot.payload });
    confState = snapshot.metadata.confState;
  }
  raftStorage.setHardState(recovery.hardState);
  raftStorage.append(recovery.entries);
  if (snapshot !== undefined && store.consistentIndex() < snapshot.metadata.index) {
    // Crashed after adopting an InstallSnapshot but before LMDB was replaced: finish it.
    const image = new ReceivedSnapshotFiles(layout.snapDir).find(snapshot.metadata.index);
    if (image === undefined) {
      throw new Error(`snapshot ${snapshot.metadata.index} is newer than the database (${store.consistentIndex()}) and its image is missing`);
    }
    await store.restoreFrom(image);
  }
  const storedMembers = store.getMeta(MEMBERS_META);
  const members = storedMembers === undefined ? [] : decodeMembers(storedMembers);
  logger.info(
    {
      memberId: meta.memberId.toString(16),
      snapshotIndex: snapshot?.metadata.index.toString() ?? '0',
      walEntries: recovery.entries.length,
      consistentIndex: store.consistentIndex().toString(),
    },
    'restarting member',
  );
  return {
    memberId: meta.memberId, clusterId: meta.clusterId, members, store, wal, snapshotter, raftStorage,
    snapshotIndex: snapshot?.metadata.index ?? 0n, confState, hardState: recovery.hardState, isNew: false, snapDir: layout.snapDir,
  };
}

interface OpenParts {
  store: MvccStore;
  snapshotter: Snapshotter;
  raftStorage: MemoryStorage;
  layout: ReturnType<typeof storageLayout>;
  walOptions: { segmentBytes: number; logger: Logger };
}

/**
 * A member added with MemberAdd starts empty: it learns the cluster id and its own id (the
 * entry whose peer URLs are its own) from a running member, then waits for the leader to
 * send it the log or a snapshot. It never bootstraps entries of its own.
 */
async function joinExistingCluster(
  config: MemberConfig,
  logger: Logger,
  parts: OpenParts,
  discover: ClusterDiscovery | undefined,
): Promise<OpenedStorage> {
  if (discover === undefined) throw new Error('joining an existing cluster needs the peer transport');
  const ownUrls = [...config.initialAdvertisePeerUrls].sort().join(',');
  const others = [...config.initialCluster.entries()].filter(([name]) => name !== config.name).flatMap(([, urls]) => urls);
  if (others.length === 0) throw new Error('--initial-cluster-state existing needs the other members in --initial-cluster');
  const { clusterId, members } = await discover(others);
  const local = members.find((m) => [...m.peerUrls].sort().join(',') === ownUrls);
  if (local === undefined) {
    throw new Error(`this member's peer URLs (${ownUrls}) are not in the cluster; add it first with "etcdctl member add"`);
  }
  const { store, snapshotter, raftStorage, layout, walOptions } = parts;
  const wal = await Wal.create(layout.walDir, encodeWalMetadata({ memberId: local.id, clusterId }), walOptions);
  store.write((w) => w.putMeta(MEMBERS_META, encodeMembers(members)));
  logger.info({ memberId: local.id.toString(16), clusterId: clusterId.toString(16) }, 'joining an existing cluster');
  return {
    memberId: local.id, clusterId, members, store, wal, snapshotter, raftStorage,
    snapshotIndex: 0n, confState: { voters: [], learners: [] }, hardState: { term: 0n, vote: 0n, commit: 0n },
    isNew: true, snapDir: layout.snapDir,
  };
}
