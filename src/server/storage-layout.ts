import * as path from 'node:path';

/** Where a member keeps its files under --data-dir (etcd's layout, with an LMDB db). */
export function storageLayout(dataDir: string): { memberDir: string; walDir: string; snapDir: string; dbDir: string } {
  const memberDir = path.join(dataDir, 'member');
  return {
    memberDir,
    walDir: path.join(memberDir, 'wal'),
    snapDir: path.join(memberDir, 'snap'),
    dbDir: path.join(memberDir, 'db'),
  };
}

/** The LMDB meta entry holding the membership records (updated in the apply transaction). */
export const MEMBERS_META = 'members';
