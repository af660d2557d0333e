import 'reflect-metadata';
import { Command } from 'commander';
import { addServeFlags, configFromOptions } from './serve-options';
import { ConfigError } from '../server/config';
import { runServe } from './serve';
import { registerLocksCommand } from './locks';
import { registerVerifyCommand } from './verify';
import { registerBenchmarkCommand } from './benchmark';
import { registerSnapshotCommand } from './snapshot';

const VERSION = '0.1.0';

export function main(argv: string[]): void {
  const program = new Command();
  program.name('latchkey').description('Distributed locks and leader election, speaking the etcd v3 API').version(VERSION);

  addServeFlags(program.command('serve', { isDefault: true }).description('run a latchkey member (takes etcd flags)')).action(
    (options: Record<string, string | undefined>) => {
      let config;
      try {
        config = configFromOptions(options, process.env);
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`latchkey: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      runServe(config).catch((err: unknown) => {
        process.stderr.write(`latchkey: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      });
    },
  );

  registerLocksCommand(program);
  registerVerifyCommand(program);
  registerBenchmarkCommand(program);
  registerSnapshotCommand(program);
  program.parse(argv, { from: 'user' });
}
