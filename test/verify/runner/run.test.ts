import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../../../src/paths';
import { silentLogger } from '../../../src/log';
import type { NemesisSchedule } from '../../../src/verify/faults/nemesis';
import { FAILPOINT_FAULT_KINDS, type FaultEvent, type FaultKind } from '../../../src/verify/faults/types';
import type { RunSummaryJson } from '../../../src/verify/report/summary-json';
import { runVerify } from '../../../src/verify/runner/run';
import { buildOutputRoot } from '../../support/processes';
import { findBinary, requireBinary } from '../../support/skip';

/**
 * Short verify runs (CI-sized): a real cluster, real faults, the output files. Together the
 * runs cover every fault kind and every workload, each kind in turn ('cycle') at a fast pace,
 * in about two minutes.
 */

/** Fast pace for CI: short faults and calms, so ~1.5–2 s per fault. */
const CI_SCHEDULE: NemesisSchedule = { order: 'cycle', holdMs: [700, 1_000], calmMs: [400, 700], crashWaitMs: 6_000 };

function readSummary(dir: string): RunSummaryJson {
  return JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as RunSummaryJson;
}

/** Every kind was applied at least once (not merely attempted and skipped). */
function assertEveryKindInjected(kinds: readonly FaultKind[], events: readonly FaultEvent[], report: string): void {
  for (const kind of kinds) {
    assert.ok(events.some((e) => e.kind === kind && e.skipped === undefined), `${kind} was injected; schedule:\n${report}`);
  }
}

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
    const result = await runCli(['verify', '--duration', '8s', '--members', '3', '--workload', 'register', '--faults', 'kill,pause', '--fault-order', 'cycle', '--seed', '7', '--out', out]);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `one verdict line, got: ${result.stdout}`);
    assert.match(lines[0]!, /^verify: PASS \(/, `${result.stdout}\n${result.stderr.slice(-2000)}`);
    assert.equal(result.code, 0);
    assert.match(result.stderr, /ops ok=\d+ fail=\d+ unknown=\d+/, 'progress lines on stderr');
    assertOutputFiles(out);
    const history = JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8')) as { faults: FaultEvent[] };
    assertEveryKindInjected(['kill', 'pause'], history.faults, fs.readFileSync(path.join(out, 'report.md'), 'utf8'));
  });

  test('against etcd 3.4 the run passes, and failpoint faults are skipped and said so once', async (t) => {
    if (!requireBinary(t, 'etcd')) return;
    const out = tempDir('etcd');
    const progress: string[] = [];
    const outcome = await runVerify({
      target: 'etcd',
      etcdBinary: findBinary('etcd'),
      members: 3,
      durationMs: 8_000,
      faults: ['kill', 'pause', 'crash-before-fsync', 'slow-fsync'],
      workloads: ['register'],
      seed: 7,
      outDir: out,
      log: silentLogger(),
      progress: (line) => progress.push(line),
    });
    assert.equal(outcome.verdict, 'PASS', outcome.line);
    assert.equal(outcome.exitCode, 0);
    assertOutputFiles(out);
    const notices = progress.filter((line) => line.includes("not available on etcd: no failpoints in Debian's build"));
    assert.equal(notices.length, 1, progress.join('\n'));
    assert.match(notices[0]!, /crash-before-fsync, slow-fsync/);
    const report = fs.readFileSync(outcome.files.report, 'utf8');
    assert.equal(report.match(/not available on etcd/g)?.length, 1, report);
    const summary = readSummary(out);
    assert.deepEqual(summary.faults.unavailable, ['crash-before-fsync', 'slow-fsync']);
    assert.ok(Object.keys(summary.faults.injected).every((k) => k === 'kill' || k === 'pause'), JSON.stringify(summary.faults));
    assert.ok(fs.readFileSync(path.join(out, 'logs', 'm0.log'), 'utf8').length > 0, 'member logs kept');
  });

  test('every process and network fault in turn, with watch, lock and election workloads, against latchkey', async () => {
    const out = tempDir('network');
    const kinds: FaultKind[] = ['partition', 'partition-leader', 'bridge', 'one-way', 'kill-leader', 'leader-transfer', 'member-change'];
    const outcome = await runVerify({
      target: 'latchkey',
      members: 3,
      // Two rounds of the seven kinds, so one attempt that could not be applied is retried.
      durationMs: 24_000,
      faults: kinds,
      workloads: ['watch', 'lock', 'election'],
      seed: 21,
      outDir: out,
      log: silentLogger(),
      schedule: CI_SCHEDULE,
    });
    const report = fs.readFileSync(outcome.files.report, 'utf8');
    assert.equal(outcome.verdict, 'PASS', `${outcome.line}\n${report}`);
    assert.deepEqual(outcome.checks.map((c) => c.checker).sort(), ['election', 'lock', 'watch']);
    const history = JSON.parse(fs.readFileSync(outcome.files.history, 'utf8')) as { faults: FaultEvent[] };
    assertEveryKindInjected(kinds, history.faults, report);
    assert.match(report, /[1-9]\d* attributed to their dialing member/, 'proxies identified dialing members');
  });

  test('every failpoint fault in turn crashes or slows a latchkey member, and no acknowledged write is lost (register, append, lease)', async () => {
    const out = tempDir('failpoints');
    // The snapshot crash first: it waits for --snapshot-count entries, the others for a few writes.
    const kinds: FaultKind[] = ['crash-during-snapshot', 'slow-fsync', 'crash-before-fsync', 'crash-after-fsync', 'crash-after-apply'];
    assert.deepEqual([...kinds].sort(), [...FAILPOINT_FAULT_KINDS].sort());
    const outcome = await runVerify({
      target: 'latchkey',
      members: 3,
      durationMs: 24_000,
      faults: kinds,
      workloads: ['register', 'append', 'lease'],
      seed: 5,
      outDir: out,
      log: silentLogger(),
      schedule: { ...CI_SCHEDULE, crashWaitMs: 8_000 },
    });
    const report = fs.readFileSync(outcome.files.report, 'utf8');
    assert.equal(outcome.verdict, 'PASS', `${outcome.line}\n${report}`);
    const summary = readSummary(out);
    assert.equal(summary.anomalies, 0);
    assert.equal(summary.lostAcknowledgedWrites, 0);
    const history = JSON.parse(fs.readFileSync(outcome.files.history, 'utf8')) as { faults: FaultEvent[] };
    assertEveryKindInjected(kinds, history.faults, report);
    // A crash kind's member really died at its failpoint (not merely killed by the runner).
    for (const kind of FAILPOINT_FAULT_KINDS.filter((k) => k !== 'slow-fsync')) {
      assert.ok(history.faults.some((e) => e.kind === kind && / crashed at \w+$/.test(e.detail)), `${kind} crashed its member; schedule:\n${report}`);
    }
    assert.match(report, /slow-fsync \| m\d walFsync=sleep\(\d+\): ran /);
    assert.match(fs.readFileSync(path.join(out, 'logs', 'm0.log'), 'utf8'), /=== .* verify: started m0 pid \d+/);
    assert.match(fs.readFileSync(outcome.files.timeline, 'utf8'), /crash-during-snapshot<\/text>/);
  });

  test('bad options are refused with exit code 2', async () => {
    const result = await runCli(['verify', '--faults', 'meteor-strike']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown fault 'meteor-strike'/);
  });
});
