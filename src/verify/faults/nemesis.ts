import type { Logger } from '../../log';
import { replaceMember, type Cluster, type MemberHandle } from '../runner/cluster';
import type { Clock } from '../runner/recorder';
import { sleep, type Random } from '../runner/random';
import { applyFailpointFault, failpointSpec } from './failpoint-faults';
import { applyLinks, bridgeLinks, describeLinks, healLinks, oneWayLinks, splitLinks } from './partitions';
import { isFailpointFault, type FaultEvent, type FaultKind } from './types';

/**
 * How the nemesis picks and paces faults. 'random' draws each fault kind from the seed;
 * 'cycle' takes the kinds in order, round and round (CI uses it so a short run covers
 * every kind).
 */
export interface NemesisSchedule {
  order: 'random' | 'cycle';
  /** A fault is held for a time in this range (ms, inclusive)... */
  holdMs: readonly [number, number];
  /** ...then the cluster gets this much calm. */
  calmMs: readonly [number, number];
  /** Bound on waiting for a member armed with a crash failpoint to reach it. */
  crashWaitMs: number;
}

export const DEFAULT_SCHEDULE: NemesisSchedule = { order: 'random', holdMs: [1_000, 3_000], calmMs: [1_000, 2_000], crashWaitMs: 10_000 };

/**
 * The nemesis: applies faults one at a time on a seeded schedule (by default fault for
 * 1–3 s, then 1–2 s of calm), records each as a FaultEvent, and heals everything at the end.
 */
export class Nemesis {
  readonly events: FaultEvent[] = [];
  /** What is in effect now, for the progress line. */
  current = 'none';
  private readonly log: Logger;

  constructor(
    private readonly cluster: Cluster,
    private readonly kinds: readonly FaultKind[],
    private readonly random: Random,
    private readonly clock: Clock,
    log: Logger,
    private readonly schedule: NemesisSchedule = DEFAULT_SCHEDULE,
  ) {
    this.log = log.child({ component: 'nemesis' });
  }

  /** Runs faults until `stopAtMs` (clock time). Never throws: a failed fault is recorded as skipped. */
  async run(stopAtMs: number): Promise<void> {
    if (this.kinds.length === 0) return;
    await sleep(1_000);
    for (let round = 0; round < 10_000 && this.clock.now() < stopAtMs - 1_500; round++) {
      const kind = this.schedule.order === 'cycle' ? this.kinds[round % this.kinds.length]! : this.random.pick(this.kinds);
      const holdMs = this.random.int(...this.schedule.holdMs);
      const event: FaultEvent = { kind, detail: '', startMs: this.clock.now(), endMs: 0 };
      this.events.push(event);
      try {
        await this.apply(kind, event, Math.min(holdMs, Math.max(200, stopAtMs - this.clock.now() - 500)), stopAtMs);
      } catch (error) {
        event.skipped = error instanceof Error ? error.message : String(error);
        this.log.debug({ kind, error: event.skipped }, 'fault failed');
        await this.healAll();
      }
      event.endMs = this.clock.now();
      this.current = 'none';
      await sleep(this.random.int(...this.schedule.calmMs));
    }
  }

  private async target(leader: boolean): Promise<MemberHandle> {
    if (leader) {
      // Right after another fault there may be an election in progress: ask for a while.
      for (let attempt = 0; attempt < 15; attempt++) {
        const l = await this.cluster.leader();
        if (l !== undefined) return l;
        await sleep(200);
      }
      throw new Error('no leader found');
    }
    return this.random.pick(this.cluster.members);
  }

  private async apply(kind: FaultKind, event: FaultEvent, holdMs: number, stopAtMs: number): Promise<void> {
    const names = this.cluster.members.map((m) => m.name);
    const proxies = this.cluster.proxies;
    const show = (detail: string): void => {
      event.detail = detail;
      this.current = `${kind} ${detail}`;
    };
    if (isFailpointFault(kind)) {
      const m = await this.target(this.random.next() < 0.5);
      const spec = failpointSpec(kind, this.random);
      show(`${m.name} ${spec}`);
      // Bounded by the run's end, but long enough for a few writes to reach the failpoint.
      const crashWaitMs = Math.min(this.schedule.crashWaitMs, Math.max(2_000, stopAtMs - this.clock.now()));
      event.detail = await applyFailpointFault(this.cluster, m, kind, spec, { holdMs, crashWaitMs });
      return;
    }
    switch (kind) {
      case 'kill':
      case 'kill-leader': {
        const m = await this.target(kind === 'kill-leader');
        show(m.name);
        await this.cluster.kill(m);
        await sleep(holdMs);
        this.cluster.restart(m);
        return;
      }
      case 'pause': {
        const m = await this.target(this.random.next() < 0.5);
        show(m.name);
        this.cluster.pause(m);
        await sleep(holdMs);
        this.cluster.resume(m);
        return;
      }
      case 'partition':
      case 'partition-leader': {
        const isolated = kind === 'partition-leader' ? await this.target(true) : undefined;
        const shuffled = [...names].sort(() => this.random.next() - 0.5);
        const minoritySize = Math.floor((names.length - 1) / 2);
        const minority = isolated !== undefined ? [isolated.name, ...shuffled.filter((n) => n !== isolated.name)].slice(0, Math.max(1, minoritySize)) : shuffled.slice(0, Math.max(1, minoritySize));
        const majority = names.filter((n) => !minority.includes(n));
        show(`{${minority.join(',')}} | {${majority.join(',')}}`);
        applyLinks(proxies, splitLinks(minority, majority));
        await sleep(holdMs);
        healLinks(proxies);
        return;
      }
      case 'bridge': {
        if (names.length < 3) throw new Error('bridge needs at least 3 members');
        const bridge = this.random.pick(names);
        const links = bridgeLinks(names, bridge);
        show(`bridge ${bridge}: ${describeLinks(links)}`);
        applyLinks(proxies, links);
        await sleep(holdMs);
        healLinks(proxies);
        return;
      }
      case 'one-way': {
        const from = (await this.target(this.random.next() < 0.5)).name;
        const links = oneWayLinks(names, from);
        show(describeLinks(links));
        applyLinks(proxies, links);
        await sleep(holdMs);
        healLinks(proxies);
        return;
      }
      case 'leader-transfer': {
        show(await this.transferLeadership());
        return;
      }
      case 'member-change': {
        const leader = await this.cluster.leader();
        const candidates = this.cluster.members.filter((m) => m !== leader && this.cluster.isRunning(m));
        const m = this.random.pick(candidates);
        show(m.name);
        show(await replaceMember(this.cluster, m));
        return;
      }
    }
  }

  /**
   * MoveLeader to a follower that is up and following the same leader (a member restarted
   * a moment ago would still be catching up, and the transfer would time out). Two
   * attempts, the second to a freshly chosen follower and leader.
   */
  private async transferLeadership(): Promise<string> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      const leader = await this.target(true);
      const ids = await this.cluster.memberIds();
      const leaderId = ids.get(leader.name);
      const followers: MemberHandle[] = [];
      for (const m of this.cluster.members) {
        if (m === leader || !ids.has(m.name)) continue;
        const status = await this.cluster.status(m);
        if (status !== undefined && status.leader === leaderId) followers.push(m);
      }
      if (followers.length === 0) {
        lastError = new Error('no follower up to date with the leader');
        await sleep(500);
        continue;
      }
      const to = this.random.pick(followers);
      this.current = `leader-transfer ${leader.name} -> ${to.name}`;
      try {
        await leader.rpc.moveLeader(ids.get(to.name)!);
        return `${leader.name} -> ${to.name}${attempt > 0 ? ' (second attempt)' : ''}`;
      } catch (error) {
        lastError = error;
        await sleep(500);
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /**
   * Heals every fault: links restored, paused members resumed, members still armed with
   * failpoints replaced by clean processes, stopped members restarted.
   */
  async healAll(): Promise<void> {
    healLinks(this.cluster.proxies);
    for (const m of this.cluster.members) {
      if (m.paused) this.cluster.resume(m);
      if (m.failpoints !== undefined) await this.cluster.kill(m);
      if (!this.cluster.isRunning(m)) this.cluster.restart(m);
    }
  }
}
