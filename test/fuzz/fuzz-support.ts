import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Shared knobs for the fuzz suites: FUZZ_RUNS scales the number of fast-check runs (default:
 * small enough for the whole suite to stay well under a minute), FUZZ_SEED replays a run.
 */
export function fuzzRuns(defaultRuns: number): number {
  const configured = process.env.FUZZ_RUNS;
  if (configured === undefined || configured === '') return defaultRuns;
  const runs = Number(configured);
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got ${configured}`);
  return runs;
}

/** The seed for this suite: FUZZ_SEED when given, else random; printed so a failure can be replayed. */
export function fuzzSeed(suite: string): number {
  const configured = process.env.FUZZ_SEED;
  const seed = configured !== undefined && configured !== '' ? Number(configured) : Math.floor(Math.random() * 0x7fffffff);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${configured}`);
  process.stdout.write(`# ${suite}: fast-check seed ${seed} (replay with FUZZ_SEED=${seed})\n`);
  return seed;
}

/** A temp dir under os.tmpdir(), removed after `run`. */
export async function withTempRoot(label: string, run: (root: string) => Promise<void>): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-fuzz-${label}-`));
  try {
    await run(root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Every file in `dir` by name with its content, to prove a failed open changed nothing. */
export function readDirectory(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of fs.readdirSync(dir).sort()) files.set(name, fs.readFileSync(path.join(dir, name)));
  return files;
}

export function sameDirectory(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, bytes] of a) {
    const other = b.get(name);
    if (other === undefined || !other.equals(bytes)) return false;
  }
  return true;
}
