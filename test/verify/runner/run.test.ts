import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../../../src/paths';
import { silentLogger } from '../../../src/log';
import { runVerify } from '../../../src/verify/runner/run';
import { buildOutputRoot } from '../../support/processes';
import { findBinary, requireBinary } from '../../support/skip';

/** Short verify runs (CI-sized): a real cluster, real faults, the three output files. */

const tempDirs: string[] = [];
function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-verify-test-${label}-`));
  tempDirs.push(dir);
  return dir;
}

function assertOutputFiles(dir: string): void {
  const history = JSON.parse(fs.readFileSync(path.join(dir, 'history.json'), 'utf8')) as { workloads: Record<string, { operations: unknown[] }> };
  assert.ok(history.workloads.register!.operations.length > 0, 'history has operations');
  const report = fs.readFileSync(path.join(dir, 'report.md'), 'utf8');
  assert.match(report, /\| register \| valid \|/);
  assert.match(report, /## Fault schedule/);
  const svg = fs.readFileSync(path.join(dir, 'timeline.svg'), 'utf8');
  assert.match(svg, /^<svg /);
  assert.match(svg, /fill="#2e9e44"/, 'has ok bars');
}

/** Runs the CLI; resolves with exit code, stdout and stderr. The child is waited for by PID. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(process.execPath, [path.join(projectRoot(), 'bin', 'latchkey'), ...args], {
      env: { ...process.env, LATCHKEY_DIST: process.env.LATCHKEY_DIST ?? buildOutputRoot() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('latchkey verify', () => {
  after(() => {
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a short run against a 3-member latchkey cluster with kill and pause passes and writes its files', async () => {
    const out = tempDir('latchkey');
    const result = await runCli(['verify', '--duration', '8s', '--members', '3', '--workload', 'register', '--faults', 'kill,pause', '--seed', '7', '--out', out]);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `one verdict line, got: ${result.stdout}`);
    assert.match(lines[0]!, /^verify: PASS \(/, `${result.stdout}\n${result.stderr.slice(-2000)}`);
    assert.equal(result.code, 0);
    assert.match(result.stderr, /ops ok=\d+ fail=\d+ unknown=\d+/, 'progress lines on stderr');
    assertOutputFiles(out);
  });

  test('the same run against etcd 3.4 passes', async (t) => {
    if (!requireBinary(t, 'etcd')) return;
    const out = tempDir('etcd');
    const outcome = await runVerify({
      target: 'etcd',
      etcdBinary: findBinary('etcd'),
      members: 3,
      durationMs: 8_000,
      faults: ['kill', 'pause'],
      workloads: ['register'],
      seed: 7,
      outDir: out,
      log: silentLogger(),
    });
    assert.equal(outcome.verdict, 'PASS', outcome.line);
    assert.equal(outcome.exitCode, 0);
    assertOutputFiles(out);
  });

  test('partitions through the fault proxies, with watch and lock workloads, against latchkey', async () => {
    const out = tempDir('partition');
    const outcome = await runVerify({
      target: 'latchkey',
      members: 3,
      durationMs: 7_000,
      faults: ['partition', 'one-way'],
      workloads: ['watch', 'lock'],
      seed: 21,
      outDir: out,
      log: silentLogger(),
    });
    assert.equal(outcome.verdict, 'PASS', outcome.line);
    assert.deepEqual(outcome.checks.map((c) => c.checker).sort(), ['lock', 'watch']);
    const report = fs.readFileSync(outcome.files.report, 'utf8');
    assert.match(report, /\| (partition|one-way) \|/, 'a partition fault ran');
    assert.match(report, /[1-9]\d* attributed to their dialing member, 0 not/, 'proxies identified every dialing member');
  });

  test('bad options are refused with exit code 2', async () => {
    const result = await runCli(['verify', '--faults', 'meteor-strike']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown fault 'meteor-strike'/);
  });
});
