// Runs the deterministic simulator (compiled test/sim) for a chosen number of seeds.
// Compiles nothing: build first (npm run build, or tsc --outDir <dir> and pass --dist <dir>).
//
//   node scripts/sim.mjs                     2000 seeds (what CI runs)
//   node scripts/sim.mjs --seeds 100000 --jobs 2
//   node scripts/sim.mjs --seed 1234         rerun exactly one seed
//   options: --first <n> (first seed, default 1), --steps <n> (chaos steps per seed),
//            --dist <dir> (build output, default dist)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

function parseArgs(argv) {
  const options = { seeds: 2000, first: 1, jobs: 1, dist: 'dist', seed: undefined, steps: undefined };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    if (!(name in options) || value === undefined) {
      console.error(`usage: node scripts/sim.mjs [--seeds n] [--first n] [--seed n] [--steps n] [--jobs n] [--dist dir] (bad argument ${argv[i]})`);
      process.exit(2);
    }
    options[name] = name === 'dist' ? value : Number(value);
    i++;
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
const testFile = join(options.dist, 'test', 'sim', 'sim.test.js');
if (!existsSync(testFile)) {
  console.error(`${testFile} not found: build first (npm run build) or pass --dist <build dir>`);
  process.exit(1);
}

function runJob(env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', testFile], { stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const common = options.steps === undefined ? {} : { SIM_STEPS: String(options.steps) };
let jobs;
if (options.seed !== undefined) {
  jobs = [{ ...common, SIM_SEED: String(options.seed) }];
} else {
  const count = Math.max(1, Math.min(options.jobs, options.seeds));
  const per = Math.ceil(options.seeds / count);
  jobs = [];
  for (let j = 0; j < count; j++) {
    const first = options.first + j * per;
    const seeds = Math.min(per, options.first + options.seeds - first);
    if (seeds > 0) jobs.push({ ...common, SIM_FIRST_SEED: String(first), SIM_SEEDS: String(seeds) });
  }
}
const started = process.hrtime.bigint();
const codes = await Promise.all(jobs.map(runJob));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const failed = codes.some((c) => c !== 0);
console.log(`sim: ${options.seed !== undefined ? `seed ${options.seed}` : `${options.seeds} seeds from ${options.first}`} in ${seconds.toFixed(1)} s: ${failed ? 'FAILED' : 'ok'}`);
process.exit(failed ? 1 : 0);
