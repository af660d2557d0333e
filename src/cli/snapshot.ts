import { Command } from 'commander';
import { createRootLogger } from '../log';
import { ConfigError, parseInitialCluster, parseUrlList } from '../server/config';
import { restoreSnapshot } from './snapshot-restore';
import { SnapshotFileError } from './snapshot-file';
import { snapshotStatus, statusJson, statusTable, humanBytes } from './snapshot-status';

/**
 * `latchkey snapshot restore FILE …` and `latchkey snapshot status FILE`: etcdctl's offline
 * snapshot commands for latchkey data dirs. `etcdctl snapshot save` (against latchkey or
 * etcd's API) makes the file.
 */

interface RestoreFlags {
  name: string;
  dataDir?: string;
  initialCluster: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string;
  skipHashCheck?: boolean;
}

interface StatusFlags {
  writeOut: string;
}

const DEFAULT_PEER_URL = 'http://localhost:2380';

function fail(command: string, err: unknown): void {
  const systemError = err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
  const known = err instanceof SnapshotFileError || err instanceof ConfigError || systemError;
  process.stderr.write(`latchkey snapshot ${command}: ${err instanceof Error ? err.message : String(err)}\n`);
  if (!known && err instanceof Error && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
}

async function runRestore(file: string, flags: RestoreFlags): Promise<void> {
  const dataDir = flags.dataDir ?? `${flags.name}.latchkey`;
  const result = await restoreSnapshot(
    {
      snapshotFile: file,
      name: flags.name,
      dataDir,
      initialCluster: parseInitialCluster(flags.initialCluster),
      initialClusterToken: flags.initialClusterToken,
      initialAdvertisePeerUrls: parseUrlList(flags.initialAdvertisePeerUrls, '--initial-advertise-peer-urls'),
      skipHashCheck: flags.skipHashCheck === true,
    },
    createRootLogger('warn', flags.name),
  );
  process.stdout.write(
    `restored snapshot to ${dataDir}: member ${result.memberId.toString(16)} of cluster ${result.clusterId.toString(16)} at revision ${result.revision}\n`,
  );
}

async function runStatus(file: string, flags: StatusFlags): Promise<void> {
  const status = await snapshotStatus(file);
  switch (flags.writeOut) {
    case 'json':
      process.stdout.write(statusJson(status));
      return;
    case 'table':
      process.stdout.write(statusTable(status));
      return;
    case 'simple':
      process.stdout.write(`${status.hash.toString(16).padStart(8, '0')}, ${status.revision}, ${status.totalKey}, ${humanBytes(status.totalSize)}\n`);
      return;
    default:
      throw new ConfigError(`unknown output format "${flags.writeOut}" (simple, table or json)`);
  }
}

export function registerSnapshotCommand(program: Command): void {
  const snapshot = program.command('snapshot').description('restore a member data dir from a snapshot file, or inspect one');
  snapshot
    .command('restore <file>')
    .description('make a data dir for one member of a new cluster from a snapshot (etcdctl snapshot save)')
    .option('--name <name>', 'human-readable name for this member', 'default')
    .option('--data-dir <dir>', 'path to the data directory (default "<name>.latchkey")')
    .option('--initial-cluster <config>', 'initial cluster configuration for restore bootstrap', `default=${DEFAULT_PEER_URL}`)
    .option('--initial-cluster-token <token>', 'initial cluster token for the cluster during restore bootstrap', 'etcd-cluster')
    .option('--initial-advertise-peer-urls <urls>', "this member's peer URLs to advertise", DEFAULT_PEER_URL)
    .option('--skip-hash-check', 'ignore the snapshot integrity hash (needed for a file copied from a data dir)')
    .action(async (file: string, flags: RestoreFlags) => {
      try {
        await runRestore(file, flags);
      } catch (err) {
        fail('restore', err);
      }
    });
  snapshot
    .command('status <file>')
    .description('hash, revision, total keys and size of a snapshot file')
    .option('-w, --write-out <format>', 'output format: simple, table or json', 'simple')
    .action(async (file: string, flags: StatusFlags) => {
      try {
        await runStatus(file, flags);
      } catch (err) {
        fail('status', err);
      }
    });
}
