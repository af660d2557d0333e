import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const EXIT_WITHIN_MS = 15_000;

test('close() is prompt and leaves nothing running: the process exits by itself', async () => {
  const script = path.join(__dirname, 'fixtures', 'close-exit.js');
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = await new Promise<{ code: number | null; timedOut: boolean }>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: null, timedOut: true });
    }, EXIT_WITHIN_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut: false });
    });
  });
  assert.equal(exit.timedOut, false, `process still running ${EXIT_WITHIN_MS} ms later; output: ${stdout} ${stderr}`);
  assert.equal(exit.code, 0, stderr);
  const report = JSON.parse(stdout.trim()) as { closeMs: number; forward: unknown; statusesAfterClose: number };
  assert.ok(report.closeMs < 1_000, `close took ${report.closeMs} ms`);
  assert.equal(report.forward, 'cancelled', 'a pending lease forward is cancelled by close()');
  assert.equal(report.statusesAfterClose, 0, 'no snapshot status is reported after close()');
});
