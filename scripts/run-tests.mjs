// Runs every compiled test file under dist/test with node's built-in runner.
// Usage: node scripts/run-tests.mjs [path-filter ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) collect(full, out);
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect('dist/test', []).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error('no test files found under dist/test');
  process.exit(1);
}
// A file that hangs must end the run with its name, not hold it until CI's limit: the
// watchdog preloaded into each file prints what it waits on and ends it; the runner's own
// per-file timeout (above the watchdog's) catches a file too busy for the watchdog to run.
const watchdog = fileURLToPath(new URL('./test-watchdog.cjs', import.meta.url));
const perFileTimeoutMs = 600_000;
const result = spawnSync(
  process.execPath,
  ['--require', watchdog, '--test', '--test-concurrency=2', `--test-timeout=${perFileTimeoutMs}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
