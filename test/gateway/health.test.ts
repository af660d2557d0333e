import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopAll } from '../support/processes';
import { request } from './http-client';

/** Polls /health until it gives `status`; bounded. */
async function waitForHealth(port: number, status: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await request(port, 'GET', '/health');
    if (answer.status === status) return answer.body;
    if (Date.now() > deadline) throw new Error(`/health stayed ${answer.status} ${answer.body}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('/health on a 3-member cluster', () => {
  after(stopAll);

  test('true with a quorum, false (503) once two members are stopped, true again after', async () => {
    const members = await startCluster('latchkey', { size: 3, namePrefix: 'health-m' });
    const [survivor, a, b] = members as [(typeof members)[0], (typeof members)[0], (typeof members)[0]];
    const healthy = await request(survivor.clientPort, 'GET', '/health');
    assert.equal(healthy.status, 200);
    assert.deepEqual(JSON.parse(healthy.body), { health: 'true' });
    for (const probe of ['/livez', '/readyz']) {
      const answer = await request(survivor.clientPort, 'GET', probe);
      assert.deepEqual({ status: answer.status, body: answer.body }, { status: 200, body: 'ok' });
    }
    process.kill(a.pid, 'SIGSTOP');
    process.kill(b.pid, 'SIGSTOP');
    try {
      const body = await waitForHealth(survivor.clientPort, 503, 15_000);
      assert.deepEqual(JSON.parse(body), { health: 'false' });
    } finally {
      process.kill(a.pid, 'SIGCONT');
      process.kill(b.pid, 'SIGCONT');
    }
    await waitForHealth(survivor.clientPort, 200, 15_000);
    await Promise.all(members.map((m) => m.stop('SIGKILL')));
  });
});
