import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';

/** Where a binary is looked up: PATH, then /usr/bin and /usr/local/bin. */
export function findBinary(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/local/bin']);
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function isCi(): boolean {
  return process.env.CI === 'true';
}

/**
 * For `describe(name, { skip: skipUnlessBinaries('etcd', 'etcdctl') }, ...)`: false when every
 * binary is present, else the reason to skip. Under CI=true a missing binary is a failure
 * (throws), because a CI machine that lacks etcd would otherwise pass silently.
 */
export function skipUnlessBinaries(...names: string[]): string | false {
  const missing = names.filter((name) => findBinary(name) === undefined);
  if (missing.length === 0) return false;
  const reason = `${missing.join(', ')} not installed: install etcd-server/etcd-client (Debian) to run these tests`;
  if (isCi()) throw new Error(`CI=true and ${reason}`);
  process.stderr.write(`# skipping: ${reason}\n`);
  return reason;
}

/**
 * Inside a test: returns true when `name` is installed. Otherwise skips the test with a
 * printed reason and returns false (the caller returns at once); under CI=true it throws.
 */
export function requireBinary(t: TestContext, name: string): boolean {
  if (findBinary(name) !== undefined) return true;
  const reason = `${name} not installed: install etcd-server/etcd-client (Debian) to run this test`;
  if (isCi()) throw new Error(`CI=true and ${reason}`);
  process.stderr.write(`# skipping: ${reason}\n`);
  t.skip(reason);
  return false;
}
