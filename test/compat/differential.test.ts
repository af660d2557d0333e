import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient } from '../support/etcd-client';
import { ServerKind, ServerProcess, startEtcd, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { Scenario } from './differential/scenario';
import { TranscriptEntry, diffTranscripts, runScenario } from './differential/runner';
import { kvScenarios } from './differential/scenarios-kv';
import { txnScenarios } from './differential/scenarios-txn';
import { compactionScenarios } from './differential/scenarios-compaction';
import { leaseScenarios } from './differential/scenarios-lease';
import { watchScenarios } from './differential/scenarios-watch';

/**
 * Differential tests: every scenario runs against a real etcd 3.4 and against latchkey at
 * the same time; the normalized transcripts must match step by step. One server of each
 * kind per group; each scenario works under its own key prefix, with revisions compared as
 * offsets from the revision it started at. LATCHKEY_DIFF_TARGET=etcd puts a second etcd in
 * latchkey's place (to check the scenarios themselves); LATCHKEY_DIFF_DUMP=1 prints etcd's
 * transcripts.
 */
const target: ServerKind = process.env.LATCHKEY_DIFF_TARGET === 'etcd' ? 'etcd' : 'latchkey';
const targetLabel = target === 'etcd' ? 'etcd#2' : 'latchkey';

const groups: [string, Scenario[]][] = [
  ['kv', kvScenarios],
  ['txn', txnScenarios],
  ['compaction', compactionScenarios],
  ['lease', leaseScenarios],
  ['watch', watchScenarios],
];

/** Steps where the reference itself timed out or threw mean the scenario is wrong. */
function assertReferenceSane(name: string, transcript: TranscriptEntry[]): void {
  const text = JSON.stringify(transcript);
  assert.ok(!text.includes('"missing"') && !text.includes('"thrown"'), `scenario "${name}" is broken against etcd itself:\n${text}`);
}

interface ServerPair {
  reference: ServerProcess;
  candidate: ServerProcess;
}

async function startPair(group: string): Promise<ServerPair> {
  const [reference, candidate] = await Promise.allSettled([
    startEtcd({ name: `ref-${group}` }),
    startServerOfKind(target, { name: `sut-${group}` }),
  ]);
  if (reference.status === 'fulfilled' && candidate.status === 'fulfilled') {
    return { reference: reference.value, candidate: candidate.value };
  }
  // Stop whichever did start; report the failure.
  if (reference.status === 'fulfilled') await reference.value.stop();
  if (candidate.status === 'fulfilled') await candidate.value.stop();
  throw reference.status === 'rejected' ? reference.reason : (candidate as PromiseRejectedResult).reason;
}

describe(`differential: etcd 3.4 vs ${targetLabel}`, { skip: skipUnlessBinaries('etcd') }, () => {
  /** One pair of servers per group, all started at once up front (startup dominates runtime). */
  const pairs = new Map<string, Promise<ServerPair>>();
  before(() => {
    for (const [group] of groups) {
      const pair = startPair(group);
      pair.catch(() => undefined); // reported by the group's own before hook
      pairs.set(group, pair);
    }
  });
  after(stopAll);

  for (const [group, scenarios] of groups) {
    describe(group, () => {
      let reference: ServerProcess | undefined;
      let candidate: ServerProcess | undefined;
      let referenceClient: EtcdClient | undefined;
      let candidateClient: EtcdClient | undefined;

      before(async () => {
        ({ reference, candidate } = await pairs.get(group)!);
        referenceClient = new EtcdClient(reference.endpoint);
        candidateClient = new EtcdClient(candidate.endpoint);
      });

      after(async () => {
        referenceClient?.close();
        candidateClient?.close();
        await Promise.all([reference?.stop(), candidate?.stop()]);
      });

      scenarios.forEach((scenario, index) => {
        test(scenario.name, { timeout: scenario.timeoutMs ?? 20_000 }, async () => {
          if (candidate?.exited === true) {
            assert.fail(`${targetLabel} is no longer running; output tail:\n${candidate.output().slice(-3000)}`);
          }
          const prefix = `${group}${String(index).padStart(3, '0')}/`;
          const [expected, actual] = await Promise.all([
            runScenario(referenceClient!, scenario, prefix),
            runScenario(candidateClient!, scenario, prefix),
          ]);
          assertReferenceSane(scenario.name, expected);
          if (process.env.LATCHKEY_DIFF_DUMP === '1') {
            process.stderr.write(`\n## ${scenario.name}\n${expected.map((e) => `${e.step}\n  => ${JSON.stringify(e.outcome)}`).join('\n')}\n`);
          }
          const diff = diffTranscripts('etcd', expected, targetLabel, actual);
          if (diff !== undefined) {
            const exited = candidate!.exited ? `\n${targetLabel} has exited; output tail:\n${candidate!.output().slice(-3000)}` : '';
            assert.fail(`"${scenario.name}" differs (prefix ${prefix}):\n${diff}${exited}`);
          }
        });
      });
    });
  }
});
