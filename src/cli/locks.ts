import { Command } from 'commander';
import { LocksRpc } from './locks-rpc';
import { readLocks } from './locks-scan';
import { toJson, toTable } from './locks-format';

/**
 * `latchkey locks [--endpoints …] [--json]`: every lock and election with its holder (lease,
 * fencing token, held since, TTL) and its waiters in queue order. Reads only the public
 * etcd v3 API (Range, LeaseTimeToLive), so it works against etcd too.
 */

export const DEFAULT_LOCKS_ENDPOINTS = '127.0.0.1:2379';

interface LocksOptions {
  endpoints: string;
  json?: boolean;
}

export async function runLocks(options: LocksOptions, out: NodeJS.WritableStream): Promise<void> {
  const rpc = new LocksRpc(options.endpoints);
  try {
    const snapshot = await readLocks(rpc);
    out.write(options.json === true ? `${JSON.stringify(toJson(snapshot), null, 2)}\n` : toTable(snapshot));
  } finally {
    rpc.close();
  }
}

export function registerLocksCommand(program: Command): void {
  program
    .command('locks')
    .description('list every lock and election: holder (lease, fencing token, since) and waiters in queue order')
    .option('--endpoints <endpoints>', 'comma-separated gRPC endpoints (latchkey or etcd)', DEFAULT_LOCKS_ENDPOINTS)
    .option('--json', 'machine-readable output')
    .action(async (options: LocksOptions) => {
      try {
        await runLocks(options, process.stdout);
      } catch (err) {
        process.stderr.write(`latchkey locks: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}
