import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient } from '../support/etcd-client';
import { ServerProcess, startCluster, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { Scenario } from '../compat/differential/scenario';
import { TranscriptEntry, diffTranscripts, runScenario } from '../compat/differential/runner';
import { kvScenarios } from '../compat/differential/scenarios-kv';
import { txnScenarios } from '../compat/differential/scenarios-txn';
import { leaseScenarios } from '../compat/differential/scenarios-lease';
import { watchScenarios } from '../compat/differential/scenarios-watch';
import { compactionScenarios } from '../compat/differential/scenarios-compaction';
import { Clients, TIMING_ARGS, clusterTarget, killMembers, stableLeader, tail } from './harness';

/**
 * The differential scenarios (test/compat/differential) sent to a FOLLOWER of a 3-member
 * etcd and of a 3-member cluster of the target kind: forwarding, ReadIndex on followers,
 * lease and watch service on a member that does not lead must be indistinguishable.
 */
const kind = clusterTarget();
const targetLabel = kind === 'etcd' ? 'etcd#2' : 'latchkey';

/** Compaction last: it compacts the shared cluster (harmless for later scenarios, but keep it last). */
const PICKED: [Scenario[], string][] = [
  [kvScenarios, 'second put bumps version and mod, keeps create; prev_kv returns the old KeyValue'],
  [kvScenarios, 'limit caps kvs, count ignores limit, more is set'],
  [kvScenarios, 'range at a past revision shows the state then; header is current'],
  [kvScenarios, 'delete range with prev_kv: one revision, prev_kvs in key order'],
  [txnScenarios, 'CREATE == 0 on a missing key runs success (the lock idiom)'],
  [txnScenarios, 'reads see earlier writes of the same txn; inner headers carry the revision'],
  [txnScenarios, 'missing lease: error in the branch taken, ignored in the branch not taken'],
  [leaseScenarios, 'TimeToLive lists attached keys; unknown lease → TTL -1 without error'],
  [leaseScenarios, 'revoke deletes every attached key in one revision'],
  [leaseScenarios, 'keepalive answers with the granted TTL; an unknown lease gets TTL 0'],
  [watchScenarios, 'created response, then PUT and DELETE events (DELETE kv has only key and mod_revision)'],
  [watchScenarios, 'start_revision in the past replays history, then live events'],
  [watchScenarios, 'revoking a lease produces DELETE events for its keys'],
  [compactionScenarios, 'reads below the compacted revision fail; at or above it they work'],
];

function pick(list: Scenario[], name: string): Scenario {
  const found = list.find((scenario) => scenario.name === name);
  if (found === undefined) throw new Error(`differential scenario "${name}" no longer exists: update PICKED`);
  return found;
}

const scenarios = PICKED.map(([list, name]) => pick(list, name));

function assertReferenceSane(name: string, transcript: TranscriptEntry[]): void {
  const text = JSON.stringify(transcript);
  assert.ok(!text.includes('"missing"') && !text.includes('"thrown"'), `scenario "${name}" is broken against etcd itself:\n${text}`);
}

describe(`differential through a follower: etcd 3.4 cluster vs ${targetLabel} cluster`, { skip: skipUnlessBinaries('etcd') }, () => {
  const clients = new Clients();
  let reference: ServerProcess[] = [];
  let candidate: ServerProcess[] = [];
  let referenceFollower: ServerProcess | undefined;
  let candidateFollower: ServerProcess | undefined;
  let referenceClient: EtcdClient | undefined;
  let candidateClient: EtcdClient | undefined;

  before(async () => {
    const [ref, cand] = await Promise.allSettled([
      startCluster('etcd', { size: 3, namePrefix: 'dref', extraArgs: TIMING_ARGS }),
      startCluster(kind, { size: 3, namePrefix: 'dsut', extraArgs: TIMING_ARGS }),
    ]);
    if (ref.status === 'fulfilled') reference = ref.value;
    if (cand.status === 'fulfilled') candidate = cand.value;
    if (ref.status === 'rejected') throw ref.reason;
    if (cand.status === 'rejected') throw cand.reason;
    referenceFollower = (await stableLeader(clients, reference)).followers[0]!;
    candidateFollower = (await stableLeader(clients, candidate)).followers[0]!;
    referenceClient = clients.of(referenceFollower);
    candidateClient = clients.of(candidateFollower);
  });

  after(async () => {
    clients.closeAll();
    await killMembers([...reference, ...candidate]);
    await stopAll();
  });

  scenarios.forEach((scenario, index) => {
    test(scenario.name, { timeout: scenario.timeoutMs ?? 20_000 }, async () => {
      const prefix = `follower${String(index).padStart(3, '0')}/`;
      const [expected, actual] = await Promise.all([
        runScenario(referenceClient!, scenario, prefix),
        runScenario(candidateClient!, scenario, prefix),
      ]);
      assertReferenceSane(scenario.name, expected);
      const diff = diffTranscripts('etcd', expected, targetLabel, actual);
      if (diff !== undefined) {
        const exited = candidateFollower!.exited ? `\n${tail(candidateFollower!)}` : '';
        assert.fail(`"${scenario.name}" differs through a follower (prefix ${prefix}):\n${diff}${exited}`);
      }
    });
  });
});
