import { Client, Election, Session } from '../../clients/typescript/src';
import { Histogram } from './histogram';
import type { BenchOptions } from './options';
import { Channel } from './rpc';

/**
 * `election-failover`: one round of "the raft leader's machine dies". Campaigner A, talking
 * only to the raft leader, wins an election; one campaigner per other member queues behind
 * it. Then the leader member is killed (SIGKILL) and A's session is abandoned with it (A
 * lived on that machine). Measured from the kill: the time until a surviving member reports
 * a new raft leader, and the time until a queued campaigner is elected (that includes A's
 * session lease expiring: --session-ttl).
 */

export interface FailoverResult {
  leaderElectedMs: number;
  campaignerElectedMs: number;
  killedEndpoint: string;
  histogram: Histogram;
}

/** Kills the member serving endpoint number `index` (in --endpoints order). */
export type KillMember = (index: number) => Promise<void>;

const STATUS_POLL_MS = 10;
const FAILOVER_TIMEOUT_MS = 120_000;
/** Queued campaigners must outlive the leader change themselves. */
const QUEUED_SESSION_TTL_SECONDS = 60;
const QUEUED_CALL_TIMEOUT_MS = 500;
const MAX_CAMPAIGN_ATTEMPTS = 1_000;
const CAMPAIGN_RETRY_MS = 20;

/** Index (in `endpoints`) of the member that is raft leader, as the members report it. */
export async function findLeaderIndex(endpoints: string[]): Promise<{ index: number; leaderId: string }> {
  for (const [index, endpoint] of endpoints.entries()) {
    const channel = new Channel(endpoint);
    try {
      const status = await channel.unary('Maintenance', 'Status', {}, 2_000);
      if (String(status.leader) !== '0' && String(status.leader) === String(status.header.member_id)) {
        return { index, leaderId: String(status.leader) };
      }
    } catch {
      // unreachable member: try the next
    } finally {
      channel.close();
    }
  }
  throw new Error(`no member among ${endpoints.join(',')} reports itself as leader`);
}

/** Resolves when some endpoint reports a leader other than `oldLeaderId`. */
async function waitNewLeader(endpoints: string[], oldLeaderId: string, deadlineMs: number): Promise<void> {
  const channels = endpoints.map((endpoint) => new Channel(endpoint));
  try {
    while (Date.now() < deadlineMs) {
      const statuses = await Promise.all(channels.map((c) => c.unary('Maintenance', 'Status', {}, 500).catch(() => undefined)));
      for (const status of statuses) {
        const leader = status === undefined ? '0' : String(status.leader);
        if (leader !== '0' && leader !== oldLeaderId) return;
      }
      await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
    }
    throw new Error('no new raft leader before the timeout');
  } finally {
    for (const channel of channels) channel.close();
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`not ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Campaigns until elected. A campaign's watch can break while the cluster has no leader
 * (etcd ends `hasleader` streams then); the candidate key survives with the session, so
 * campaigning again just resumes the wait.
 */
async function campaignUntilElected(election: Election, value: string, signal: AbortSignal): Promise<void> {
  let lastError: unknown = new Error('no campaign attempt');
  for (let attempt = 0; attempt < MAX_CAMPAIGN_ATTEMPTS; attempt++) {
    try {
      await election.campaign(value, signal);
      return;
    } catch (error) {
      if (signal.aborted) throw error;
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, CAMPAIGN_RETRY_MS));
    }
  }
  throw lastError;
}

export async function runElectionFailover(options: BenchOptions, kill: KillMember): Promise<FailoverResult> {
  const { endpoints } = options;
  if (endpoints.length < 3) throw new Error('election-failover needs the endpoints of a cluster of at least 3 members');
  const { index: leaderIndex, leaderId } = await findLeaderIndex(endpoints);
  const survivors = endpoints.filter((_endpoint, i) => i !== leaderIndex);
  const name = `bench-election/${Date.now().toString(36)}`;

  const doomedClient = new Client({ endpoints: [endpoints[leaderIndex]!], maxRetries: 0 });
  // A short per-call deadline, as a tuned application would set: a call caught by the leader's
  // death (a proposal or read index sent to it) is retried instead of waiting out the server's
  // request timeout (7 s in etcd with these settings).
  const queuedClients = survivors.map(
    (endpoint) => new Client({ endpoints: [endpoint, ...survivors.filter((e) => e !== endpoint)], callTimeoutMs: QUEUED_CALL_TIMEOUT_MS }),
  );
  // Ends the queued campaigns' retry loops on every path out of this function.
  const abort = new AbortController();
  try {
    const doomedSession = await Session.create(doomedClient, { ttlSeconds: options.sessionTtlSeconds });
    await new Election(doomedSession, name).campaign('doomed');
    const queued = await Promise.all(
      queuedClients.map(async (client, i) => {
        const session = await Session.create(client, { ttlSeconds: QUEUED_SESSION_TTL_SECONDS });
        return { session, election: new Election(session, name), value: `queued-${i}` };
      }),
    );
    const campaigns = queued.map(({ election, value }) => campaignUntilElected(election, value, abort.signal));
    for (const campaign of campaigns) campaign.catch(() => undefined);

    const killedAtMs = performance.now();
    doomedSession.orphan();
    doomedClient.close();
    await kill(leaderIndex);
    const deadlineMs = Date.now() + FAILOVER_TIMEOUT_MS;
    const leaderElected = waitNewLeader(survivors, leaderId, deadlineMs).then(() => performance.now() - killedAtMs);
    const campaignerElected = withTimeout(Promise.any(campaigns), FAILOVER_TIMEOUT_MS, 'a queued campaigner elected').then(
      () => performance.now() - killedAtMs,
      (error: AggregateError) => {
        throw new Error(`no queued campaigner was elected: ${error.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ')}`);
      },
    );
    const [leaderElectedMs, campaignerElectedMs] = await Promise.all([leaderElected, campaignerElected]);
    abort.abort();
    await Promise.all(queued.map(({ session }) => session.close().catch(() => undefined)));
    const histogram = new Histogram();
    histogram.recordMs(campaignerElectedMs);
    return { leaderElectedMs, campaignerElectedMs, killedEndpoint: endpoints[leaderIndex]!, histogram };
  } finally {
    abort.abort();
    doomedClient.close();
    for (const client of queuedClients) client.close();
  }
}
