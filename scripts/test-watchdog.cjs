// Preloaded (--require) into every test file's process by scripts/run-tests.mjs.
//
// node's test runner waits for a test file as long as it runs: one request that is never
// answered, or one child that never dies, holds the whole run until CI's time limit, with no
// word of where. This watchdog ends such a file after LATCHKEY_TEST_FILE_LIMIT_S seconds
// (default 480; the slowest file takes ~95 s) and first prints what it was doing: the tests
// still running, the handles that kept it alive, and the state of every process it started.
// run-tests.mjs also gives the runner a per-file timeout above this one, for a file whose
// event loop is too busy for the watchdog's timer to fire.
'use strict';

const fs = require('node:fs');

function childProcessesOf(pid) {
  const found = [];
  let entries = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start after its closing ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) !== pid) continue;
      const command = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 160);
      const wchan = fs.readFileSync(`/proc/${entry}/wchan`, 'utf8');
      found.push(`pid ${entry} state ${rest[0]} wchan ${wchan || '-'}: ${command}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

// Only a test file's own process: NODE_TEST_CONTEXT is inherited by whatever a test spawns,
// and --require reaches worker threads and forks, which must not grow test hooks.
const isTestFile =
  (process.env.NODE_TEST_CONTEXT ?? '').startsWith('child') &&
  /\.test\.[cm]?js$/.test(process.argv[1] ?? '') &&
  require('node:worker_threads').isMainThread;

if (isTestFile) {
  const limitSeconds = Number(process.env.LATCHKEY_TEST_FILE_LIMIT_S ?? 480);
  const file = process.argv[1] ?? '(unknown file)';
  const running = new Set();
  const { beforeEach, afterEach } = require('node:test');
  beforeEach((t) => running.add(t.name));
  afterEach((t) => running.delete(t.name));
  const timer = setTimeout(() => {
    const lines = [
      `watchdog: ${file} still running after ${limitSeconds} s; ending it`,
      `running tests: ${running.size === 0 ? '(none: hooks or teardown)' : [...running].join(' | ')}`,
      `open resources: ${process.getActiveResourcesInfo().join(', ')}`,
      ...childProcessesOf(process.pid).map((line) => `child ${line}`),
    ];
    process.stderr.write(lines.map((line) => `# ${line}\n`).join(''));
    process.exit(1);
  }, limitSeconds * 1000);
  timer.unref();
}
