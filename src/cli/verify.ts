import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { createRootLogger } from '../log';
import { DEFAULT_SCHEDULE } from '../verify/faults/nemesis';
import { FAULT_KINDS, parseFaults } from '../verify/faults/types';
import { runVerify, WORKLOAD_NAMES, type WorkloadName } from '../verify/runner/run';

/**
 * `latchkey verify`: fault-injection run against a real loopback cluster (latchkey or etcd
 * 3.4), ending in one verdict line; exit code 0 PASS, 1 FAIL, 3 UNKNOWN, 2 bad usage.
 */

interface VerifyCliOptions {
  members: string;
  duration: string;
  faults: string;
  workload: string;
  seed?: string;
  target: string;
  out?: string;
  clients: string;
  faultOrder: string;
  logLevel: string;
}

/** "8s", "2m", "1500ms" or plain seconds → ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) throw new Error(`bad duration '${text}' (e.g. 30s, 2m, 1500ms)`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(unit === 'ms' ? value : unit === 's' ? value * 1000 : value * 60_000);
}

function parseWorkloads(text: string): WorkloadName[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) {
    if (!(WORKLOAD_NAMES as readonly string[]).includes(name)) throw new Error(`unknown workload '${name}' (known: ${WORKLOAD_NAMES.join(', ')})`);
  }
  if (names.length === 0) throw new Error('no workload given');
  return [...new Set(names)] as WorkloadName[];
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('start a loopback cluster, run a workload under injected faults, check the history')
    .option('--members <n>', 'cluster size (3 or 5)', '3')
    .option('--duration <time>', 'how long the workload runs (e.g. 30s, 2m)', '30s')
    .option('--faults <list>', `comma-separated: ${FAULT_KINDS.join(',')} | all | none (crash-*/slow-fsync use latchkey's failpoints; skipped on etcd)`, 'kill,pause,partition')
    .option('--fault-order <order>', 'random (from the seed) | cycle (every kind in turn)', 'random')
    .option('--workload <list>', `comma-separated: ${WORKLOAD_NAMES.join(',')}`, 'register')
    .option('--seed <n>', 'seed for the fault schedule and operation mix (default: random)')
    .option('--target <target>', 'latchkey | etcd', 'latchkey')
    .option('--out <dir>', 'folder for history.json, report.md, timeline.svg (default: a new folder under the temp dir)')
    .option('--clients <n>', 'clients per workload', '5')
    .option('--log-level <level>', 'runner log level (to stdout)', 'warn')
    .action(async (opts: VerifyCliOptions) => {
      let parsed;
      try {
        const members = Number(opts.members);
        if (!Number.isInteger(members) || members < 1 || members > 7) throw new Error(`--members must be 1..7, got '${opts.members}'`);
        const clients = Number(opts.clients);
        if (!Number.isInteger(clients) || clients < 1 || clients > 64) throw new Error(`--clients must be 1..64, got '${opts.clients}'`);
        if (opts.faultOrder !== 'random' && opts.faultOrder !== 'cycle') throw new Error(`--fault-order must be random or cycle, got '${opts.faultOrder}'`);
        if (opts.target !== 'latchkey' && opts.target !== 'etcd') throw new Error(`--target must be latchkey or etcd, got '${opts.target}'`);
        const seed = opts.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Number(opts.seed);
        if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got '${opts.seed}'`);
        parsed = {
          target: opts.target as 'latchkey' | 'etcd',
          members,
          clients,
          seed,
          durationMs: parseDuration(opts.duration),
          faults: parseFaults(opts.faults),
          workloads: parseWorkloads(opts.workload),
          outDir: opts.out ?? path.join(os.tmpdir(), `latchkey-verify-${opts.target}-${Date.now()}`),
          schedule: { ...DEFAULT_SCHEDULE, order: opts.faultOrder as 'random' | 'cycle' },
        };
      } catch (err) {
        process.stderr.write(`latchkey verify: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const outcome = await runVerify({
          ...parsed,
          log: createRootLogger(opts.logLevel, 'verify'),
          progress: (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(`${outcome.line}\n`);
        process.exitCode = outcome.exitCode;
      } catch (err) {
        process.stdout.write(`verify: FAIL (runner error: ${err instanceof Error ? err.message : String(err)})\n`);
        process.exitCode = 1;
      }
    });
}
