/**
 * Failpoints for crash and fault-injection tests, like etcd's gofail. They are configured
 * only through the LATCHKEY_FAILPOINTS environment variable, read once at module load:
 *
 *   LATCHKEY_FAILPOINTS="walBeforeFsync=crash@3,walFsync=sleep(200),duringSnapshot=crash"
 *
 * Actions: `crash` (SIGKILL this process: no cleanup, no flush — a real crash), `error`
 * (throw FailpointError), `sleep(ms)` (delay; only where failpointAsync is called), `off`.
 * `@N` fires the action on the Nth hit only (earlier and later hits pass).
 *
 * When the variable is unset, `failpoint()` is a single check of a module-level boolean, so
 * the calls cost nothing in production.
 */

export const FAILPOINT_NAMES = [
  /** WAL append: after the write, just before the fdatasync. */
  'walBeforeFsync',
  /** The WAL fdatasync itself (sleep = slow disk, error = failing fsync). */
  'walFsync',
  /** Member: the Ready's entries are durable, not yet applied. */
  'afterFsyncBeforeApply',
  /** Member: applied to the store, the waiting clients not yet answered. */
  'afterApplyBeforeAnswer',
  /** Member snapshot: the WAL marker is written, the snap file not yet. */
  'duringSnapshot',
  /** MVCC store: a write transaction about to commit (error = a refused commit; it aborts). */
  'storeCommit',
] as const;

export type FailpointName = (typeof FAILPOINT_NAMES)[number];

type FailpointAction = { kind: 'crash' } | { kind: 'error' } | { kind: 'sleep'; ms: number };

interface FailpointRule {
  action: FailpointAction;
  /** Fire only on this hit (1-based); undefined = every hit. */
  onHit: number | undefined;
  hits: number;
}

/** Thrown by an `error` failpoint. */
export class FailpointError extends Error {
  constructor(readonly failpoint: FailpointName) {
    super(`failpoint ${failpoint} injected an error`);
    this.name = 'FailpointError';
  }
}

/** The longest sleep a failpoint may request: keeps a typo from hanging a test forever. */
const MAX_SLEEP_MS = 60_000;

const RULE_PATTERN = /^(crash|error|off|sleep\((\d+)\))(?:@(\d+))?$/;

/** Parses a LATCHKEY_FAILPOINTS value; throws on anything it does not understand. */
export function parseFailpoints(spec: string): Map<FailpointName, FailpointRule> {
  const rules = new Map<FailpointName, FailpointRule>();
  for (const part of spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`LATCHKEY_FAILPOINTS: expected name=action, got "${part}"`);
    const name = part.slice(0, eq).trim();
    if (!(FAILPOINT_NAMES as readonly string[]).includes(name)) {
      throw new Error(`LATCHKEY_FAILPOINTS: unknown failpoint "${name}" (known: ${FAILPOINT_NAMES.join(', ')})`);
    }
    const match = RULE_PATTERN.exec(part.slice(eq + 1).trim());
    if (match === null) throw new Error(`LATCHKEY_FAILPOINTS: bad action in "${part}" (crash | error | off | sleep(ms), optionally @N)`);
    const onHit = match[3] === undefined ? undefined : Number(match[3]);
    if (onHit !== undefined && onHit < 1) throw new Error(`LATCHKEY_FAILPOINTS: @N must be ≥ 1 in "${part}"`);
    if (match[1] === 'off') continue;
    let action: FailpointAction;
    if (match[1] === 'crash') action = { kind: 'crash' };
    else if (match[1] === 'error') action = { kind: 'error' };
    else {
      const ms = Number(match[2]);
      if (ms > MAX_SLEEP_MS) throw new Error(`LATCHKEY_FAILPOINTS: sleep above ${MAX_SLEEP_MS} ms in "${part}"`);
      action = { kind: 'sleep', ms };
    }
    rules.set(name as FailpointName, { action, onHit, hits: 0 });
  }
  return rules;
}

const configured = process.env.LATCHKEY_FAILPOINTS;
const rules = configured === undefined || configured.trim() === '' ? new Map<FailpointName, FailpointRule>() : parseFailpoints(configured);
/** False in production: every failpoint call returns after this one check. */
const enabled = rules.size > 0;

/** True when LATCHKEY_FAILPOINTS configured at least one failpoint. */
export function failpointsEnabled(): boolean {
  return enabled;
}

/** The action due on this hit, counting the hit. */
function due(name: FailpointName): FailpointAction | undefined {
  const rule = rules.get(name);
  if (rule === undefined) return undefined;
  rule.hits++;
  if (rule.onHit !== undefined && rule.hits !== rule.onHit) return undefined;
  return rule.action;
}

function crash(name: FailpointName): never {
  // stderr, synchronously: tests read it to tell a failpoint crash from any other death.
  process.stderr.write(`failpoint ${name}: crashing (SIGKILL)\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL did not stop the process');
}

/** Synchronous failpoint: crash, error, or sleep (blocks the whole process, like a stalled thread). */
export function failpoint(name: FailpointName): void {
  if (!enabled) return;
  const action = due(name);
  if (action === undefined) return;
  if (action.kind === 'crash') crash(name);
  if (action.kind === 'error') throw new FailpointError(name);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, action.ms);
}

/** Asynchronous failpoint: crash, error or sleep. */
export async function failpointAsync(name: FailpointName): Promise<void> {
  if (!enabled) return;
  const action = due(name);
  if (action === undefined) return;
  if (action.kind === 'crash') crash(name);
  if (action.kind === 'error') throw new FailpointError(name);
  const ms = action.ms;
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}
