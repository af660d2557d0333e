import * as childProcess from 'node:child_process';
import { findBinary } from './skip';
import { spawnTracked, TrackedProcess } from './processes';

/** Result of one etcdctl run. */
export interface EtcdctlResult {
  stdout: string;
  stderr: string;
  /** Exit code; null if killed by a signal (e.g. the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface EtcdctlOptions {
  /** Text written to stdin (e.g. for `etcdctl txn`); stdin is closed afterwards. */
  input?: string;
  /** Kill after this long (default 15 s). */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** TLS flags: --cacert, --cert, --key, --insecure-skip-tls-verify (with --insecure-transport=false). */
  tls?: EtcdctlTls;
}

export interface EtcdctlTls {
  cacert?: string;
  cert?: string;
  key?: string;
  insecureSkipTlsVerify?: boolean;
}

/** etcdctl's TLS flags for `tls`. */
export function etcdctlTlsArgs(tls: EtcdctlTls | undefined): string[] {
  if (tls === undefined) return [];
  const args: string[] = [];
  if (tls.cacert !== undefined) args.push(`--cacert=${tls.cacert}`);
  if (tls.cert !== undefined) args.push(`--cert=${tls.cert}`);
  if (tls.key !== undefined) args.push(`--key=${tls.key}`);
  // etcdctl 3.4 applies --insecure-skip-tls-verify only to a TLS config it built, which it
  // does without --cacert/--cert/--key only when --insecure-transport=false.
  if (tls.insecureSkipTlsVerify === true) args.push('--insecure-transport=false', '--insecure-skip-tls-verify');
  return args;
}

function etcdctlPath(): string {
  const found = findBinary('etcdctl');
  if (found === undefined) throw new Error('etcdctl not found (Debian package etcd-client)');
  return found;
}

function etcdctlEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  // Strip inherited ETCDCTL_* settings so the caller's flags are the whole configuration.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('ETCDCTL_')) env[key] = value;
  return { ...env, ETCDCTL_API: '3', ...extra };
}

/** Runs `etcdctl --endpoints=<endpoints> <args…>` to completion (bounded) and captures its output. */
export function etcdctl(endpoints: string | string[], args: string[], options: EtcdctlOptions = {}): Promise<EtcdctlResult> {
  const endpointList = Array.isArray(endpoints) ? endpoints.join(',') : endpoints;
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(etcdctlPath(), [`--endpoints=${endpointList}`, ...etcdctlTlsArgs(options.tls), ...args], {
      env: etcdctlEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, signal });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Like `etcdctl` but rejects with the captured output unless the exit code is 0. */
export async function etcdctlOk(endpoints: string | string[], args: string[], options: EtcdctlOptions = {}): Promise<string> {
  const result = await etcdctl(endpoints, args, options);
  if (result.code !== 0) {
    throw new Error(
      `etcdctl ${args.join(' ')} exited with ${result.code ?? result.signal}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
  return result.stdout;
}

/**
 * A long-running etcdctl (watch, lease keep-alive, lock, elect) whose stdout is read line by
 * line. Stop it by PID with `stop()`; it is also tracked by `stopAll()`.
 */
export class EtcdctlSession {
  private readonly lines: string[] = [];
  private partial = '';
  private waiter: (() => void) | undefined;
  readonly process: TrackedProcess;

  constructor(endpoints: string | string[], args: string[], env?: Record<string, string>) {
    const endpointList = Array.isArray(endpoints) ? endpoints.join(',') : endpoints;
    this.process = spawnTracked(etcdctlPath(), [`--endpoints=${endpointList}`, ...args], {
      baseEnv: etcdctlEnv(env),
    });
    this.process.child.stdout!.on('data', (chunk: Buffer) => {
      this.partial += chunk.toString('utf8');
      const parts = this.partial.split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter?.();
    });
    void this.process.exit.then(() => {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter?.();
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Waits (bounded) until stdout has at least `count` complete lines; returns them all. */
  async waitForLines(count: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.process.exited) {
        throw new Error(
          `etcdctl (pid ${this.pid}) printed ${this.lines.length} of ${count} lines` +
            `${this.process.exited ? ' and exited' : ` within ${timeoutMs} ms`}\noutput:\n${this.process.output()}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return [...this.lines];
  }

  /** Waits (bounded) for a stdout line that satisfies `match`. */
  async waitForLine(match: (line: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = 0; ; ) {
      const lines = await this.waitForLines(seen + 1, Math.max(1, deadline - Date.now()));
      for (; seen < lines.length; seen++) if (match(lines[seen]!)) return lines[seen]!;
    }
  }

  stdoutLines(): string[] {
    return [...this.lines];
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): ReturnType<TrackedProcess['stop']> {
    return this.process.stop(signal);
  }
}
