import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient, type Wire } from '../support/etcd-client';
import { startServerOfKind, stopAll, type ServerKind } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { ConcurrencyClient } from './concurrency-client';
import { awaitEvent, hexOf, putOf } from './wire-helpers';

/**
 * One scenario of every Lock and Election method, run on a fresh etcd 3.4 and a fresh
 * latchkey: the responses must match field by field once ids (cluster, member, lease) are
 * replaced by placeholders. Revisions are compared as they are.
 */

type Step = [string, unknown];

/** Replaces ids that differ between servers by stable placeholders; Buffers become text. */
function normalize(steps: Step[], leases: string[]): unknown {
  const text = JSON.stringify(steps, (_key, value: unknown) => {
    const v = value as { type?: string; data?: number[] } | null;
    if (v !== null && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data).toString();
    return value;
  });
  let out = text.replace(/"(cluster_id|member_id|raft_term)":"\d+"/g, '"$1":"<id>"');
  leases.forEach((lease, i) => {
    out = out.split(`"${lease}"`).join(`"<lease${i}>"`).split(hexOf(lease)).join(`<hex${i}>`);
  });
  return JSON.parse(out);
}

async function scenario(kind: ServerKind): Promise<unknown> {
  const server = await startServerOfKind(kind);
  const client = new ConcurrencyClient(server.endpoint);
  const kv = new EtcdClient(server.endpoint);
  const observer = client.observe('E');
  try {
    const steps: Step[] = [];
    const a: string = (await kv.leaseGrant({ TTL: 30 })).ID;
    const b: string = (await kv.leaseGrant({ TTL: 30 })).ID;
    const won = await client.campaign('E', a, 'va');
    steps.push(['campaign a', won]);
    steps.push(['observe 1', await observer.next()]);
    const bCampaign = client.campaign('E', b, 'vb');
    await awaitEvent(kv, 'E/', putOf(`E/${hexOf(b)}`));
    steps.push(['proclaim', await client.proclaim(won.leader, 'va2')]);
    steps.push(['observe 2', await observer.next()]);
    steps.push(['resign', await client.resign(won.leader)]);
    steps.push(['campaign b (waited)', await bCampaign]);
    steps.push(['observe 3', await observer.next()]);
    steps.push(['leader', await client.leader('E')]);
    steps.push(['campaign b again, new value', await client.campaign('E', b, 'vb2')]);
    steps.push(['observe 4', await observer.next()]);
    const first = await client.lock('L', a);
    steps.push(['lock a', first]);
    const second = client.lock('L', b);
    await awaitEvent(kv, 'L/', putOf(`L/${hexOf(b)}`));
    steps.push(['lock a again', await client.lock('L', a)]);
    steps.push(['unlock a', await client.unlock(first.key)]);
    steps.push(['lock b (waited)', await second]);
    steps.push(['unlock empty key', await client.unlock('').catch((err: Error) => err.message)]);
    steps.push(['lock empty name', await client.lock('', a)]);
    return normalize(steps, [a, b]);
  } finally {
    observer.close();
    client.close();
    kv.close();
    await server.stop();
  }
}

describe('v3lock/v3election responses match etcd field by field', { skip: skipUnlessBinaries('etcd') }, () => {
  after(stopAll);

  test('campaign, observe, proclaim, resign, leader, lock (re-entrant and waited), unlock', async () => {
    const expected = await scenario('etcd');
    const actual = await scenario('latchkey');
    assert.deepEqual(actual, expected as Wire);
  });
});
