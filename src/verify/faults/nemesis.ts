import type { Logger } from '../../log';
import { replaceMember, type Cluster, type MemberHandle } from '../runner/cluster';
import type { Clock } from '../runner/recorder';
import { sleep, type Random } from '../runner/random';
import { applyLinks, bridgeLinks, describeLinks, healLinks, oneWayLinks, splitLinks } from './partitions';
import type { FaultEvent, FaultKind } from './types';

/**
 * The nemesis: applies faults one at a time on a seeded schedule (fault for 1–3 s, then
 * 1–2 s of calm), records each as a FaultEvent, and heals everything at the end.
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
  ) {
    this.log = log.child({ component: 'nemesis' });
  }

  /** Runs faults until `stopAtMs` (clock time). Never throws: a failed fault is recorded as skipped. */
  async run(stopAtMs: number): Promise<void> {
    if (this.kinds.length === 0) return;
    await sleep(1_000);
    for (let round = 0; round < 10_000 && this.clock.now() < stopAtMs - 1_500; round++) {
      const kind = this.random.pick(this.kinds);
      const holdMs = this.random.int(1_000, 3_000);
      const event: FaultEvent = { kind, detail: '', startMs: this.clock.now(), endMs: 0 };
      this.events.push(event);
      try {
        await this.apply(kind, event, Math.min(holdMs, Math.max(200, stopAtMs - this.clock.now() - 500)));
      } catch (error) {
        event.skipped = error instanceof Error ? error.message : String(error);
        this.log.debug({ kind, error: event.skipped }, 'fault failed');
        await this.healAll();
      }
      event.endMs = this.clock.now();
      this.current = 'none';
      await sleep(this.random.int(1_000, 2_000));
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

  private async apply(kind: FaultKind, event: FaultEvent, holdMs: number): Promise<void> {
    const names = this.cluster.members.map((m) => m.name);
    const proxies = this.cluster.proxies;
    const show = (detail: string): void => {
      event.detail = detail;
      this.current = `${kind} ${detail}`;
    };
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
        const leader = await this.target(true);
        const ids = await this.cluster.memberIds();
        const followers = this.cluster.members.filter((m) => m !== leader && ids.has(m.name));
        const to = this.random.pick(followers);
        show(`${leader.name} -> ${to.name}`);
        await leader.rpc.moveLeader(ids.get(to.name)!);
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

  /** Heals every fault: links restored, paused members resumed, stopped members restarted. */
  async healAll(): Promise<void> {
    healLinks(this.cluster.proxies);
    for (const m of this.cluster.members) {
      if (m.paused) this.cluster.resume(m);
      if (!this.cluster.isRunning(m)) this.cluster.restart(m);
    }
  }
}
