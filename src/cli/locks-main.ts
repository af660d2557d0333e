import { Command } from 'commander';
import { registerLocksCommand } from './locks';

/**
 * `locks` as a program of its own (`node <dist>/src/cli/locks-main.js locks …`), for builds
 * whose `latchkey` command does not register it yet. The real entry is bin/latchkey.
 */
export function main(argv: string[]): void {
  const program = new Command();
  program.name('latchkey');
  registerLocksCommand(program);
  void program.parseAsync(argv, { from: 'user' });
}

if (require.main === module) main(process.argv.slice(2));
