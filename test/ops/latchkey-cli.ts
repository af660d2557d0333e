import * as childProcess from 'node:child_process';
import * as path from 'node:path';
import { projectRoot } from '../../src/paths';
import { buildOutputRoot } from '../support/processes';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `latchkey <args…>` from this build to completion (bounded at 30 s). */
export function latchkeyCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    childProcess.execFile(
      process.execPath,
      [path.join(projectRoot(), 'bin', 'latchkey'), ...args],
      { env: { ...process.env, LATCHKEY_DIST: buildOutputRoot() }, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

export async function latchkeyCliOk(args: string[]): Promise<string> {
  const result = await latchkeyCli(args);
  if (result.code !== 0) throw new Error(`latchkey ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}
