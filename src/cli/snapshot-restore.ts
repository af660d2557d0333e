import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MemberInfo } from '../api/member-port';
import { encodeConfChange } from '../consensus';
import { ConfChangeType, EntryType, type Entry } from '../consensus/types';
import type { Logger } from '../log';
import { ALARMS_META, encodeAlarms } from '../server/alarms';
import { encodeConfChangeContext } from '../server/conf-change-context';
import { computeClusterId, computeMemberId, encodeMembers } from '../server/membership';
import { MEMBERS_META, storageLayout } from '../server/storage-layout';
import { encodeWalMetadata } from '../server/wal-metadata';
import { MvccStore } from '../storage/mvcc';
import { Wal } from '../storage/wal';
import { DEFAULT_SEGMENT_BYTES } from '../storage/wal/types';
import { extractDatabase, SnapshotFileError } from './snapshot-file';

export interface RestoreOptions {
  snapshotFile: string;
  name: string;
  dataDir: string;
  /** name → peer URLs, as --initial-cluster. */
  initialCluster: Map<string, string[]>;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string[];
  skipHashCheck: boolean;
}

export interface RestoreResult {
  memberId: bigint;
  clusterId: bigint;
  revision: bigint;
}

/**
 * etcd's `snapshot restore`: a data dir for one member of a NEW cluster holding the
 * snapshot's keys at their revisions. The database is installed with its consistent index
 * reset to 0 and the new membership; the WAL starts as a new member's does (one committed
 * AddNode entry per member, term 1), so `serve` replays those entries on top of the
 * restored data. Every member restoring the same file with the same --initial-cluster and
 * token computes the same member ids and cluster id, and the same database.
 */
export async function restoreSnapshot(options: RestoreOptions, logger: Logger): Promise<RestoreResult> {
  const layout = storageLayout(options.dataDir);
  if (fs.existsSync(layout.memberDir)) throw new SnapshotFileError(`data-dir "${options.dataDir}" exists`);
  const members = [...options.initialCluster.entries()].map(([name, peerUrls]): MemberInfo => ({
    id: computeMemberId(peerUrls, options.initialClusterToken), name, peerUrls, clientUrls: [], isLearner: false,
  }));
  const local = members.find((m) => m.name === options.name);
  if (local === undefined) throw new SnapshotFileError(`couldn't find local name "${options.name}" in the initial cluster configuration`);
  const advertised = [...options.initialAdvertisePeerUrls].sort().join(',');
  if ([...local.peerUrls].sort().join(',') !== advertised) {
    throw new SnapshotFileError(`--initial-cluster has ${options.name}=${local.peerUrls.join(',')} but --initial-advertise-peer-urls is ${advertised}`);
  }
  const clusterId = computeClusterId(members.map((m) => m.id));
  try {
    return await writeMemberDir(options, layout, members, local, clusterId, logger);
  } catch (err) {
    // Leave no half-restored member dir behind: a retry would refuse it as existing.
    fs.rmSync(layout.memberDir, { recursive: true, force: true });
    throw err;
  }
}

async function writeMemberDir(
  options: RestoreOptions,
  layout: ReturnType<typeof storageLayout>,
  members: MemberInfo[],
  local: MemberInfo,
  clusterId: bigint,
  logger: Logger,
): Promise<RestoreResult> {
  fs.mkdirSync(layout.snapDir, { recursive: true, mode: 0o700 });
  const staged = path.join(layout.memberDir, 'restore.db');
  await extractDatabase(options.snapshotFile, staged, options.skipHashCheck);
  MvccStore.installCopy(staged, layout.dbDir);
  fs.rmSync(staged, { force: true });
  const store = MvccStore.open(layout.dbDir, { logger: logger.child({ component: 'mvcc' }) });
  let revision: bigint;
  try {
    store.write((writer) => {
      writer.putMeta(MEMBERS_META, encodeMembers(members));
      writer.putMeta(ALARMS_META, encodeAlarms([]));
      writer.setConsistentIndex(0n);
    });
    revision = store.currentRevision();
  } finally {
    await store.close();
  }

  const wal = await Wal.create(layout.walDir, encodeWalMetadata({ memberId: local.id, clusterId }), {
    segmentBytes: DEFAULT_SEGMENT_BYTES,
    logger,
  });
  try {
    await wal.save({ term: 1n, vote: 0n, commit: BigInt(members.length) }, bootstrapEntries(members));
  } finally {
    await wal.close();
  }
  return { memberId: local.id, clusterId, revision };
}

/** The same entries a new cluster's members start their log with (bootstrap.ts). */
function bootstrapEntries(members: readonly MemberInfo[]): Entry[] {
  return members.map((m, i) => ({
    term: 1n,
    index: BigInt(i + 1),
    type: EntryType.ConfChange,
    data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId: m.id, context: encodeConfChangeContext({ requestId: 0n, member: m }) }),
  }));
}
