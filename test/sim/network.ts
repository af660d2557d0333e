/**
 * The simulated network: one queue of messages in flight, delivered in an order the
 * scheduler picks (so messages are delayed and reordered), with loss, duplication and
 * directed link cuts (a symmetric partition cuts both directions, a one-way one only one).
 */
import { type Message, type NodeId } from '../../src/consensus';
import type { Rng } from './rng';

export interface InFlight {
  message: Message;
  /** The sender's incarnation when it sent (reports go only to that incarnation). */
  senderIncarnation: number;
}

/** Bound on messages in flight; beyond it the oldest are lost. */
export const MAX_IN_FLIGHT = 2000;

const link = (from: NodeId, to: NodeId): string => `${from}>${to}`;

/** Copies what a receiver could mutate, so a duplicate delivery sees the original. */
function copyMessage(m: Message): Message {
  return { ...m, entries: m.entries.map((e) => ({ ...e })) };
}

export class Network {
  queue: InFlight[] = [];
  private readonly cuts = new Set<string>();

  send(message: Message, senderIncarnation: number): InFlight[] {
    this.queue.push({ message: copyMessage(message), senderIncarnation });
    if (this.queue.length <= MAX_IN_FLIGHT) return [];
    return this.queue.splice(0, this.queue.length - MAX_IN_FLIGHT);
  }

  /** Removes and returns a message: usually one of the oldest, sometimes any (reordering, delay). */
  take(rng: Rng): InFlight | undefined {
    if (this.queue.length === 0) return undefined;
    const i = rng.chance(0.7) ? rng.int(Math.min(3, this.queue.length)) : rng.int(this.queue.length);
    return this.queue.splice(i, 1)[0];
  }

  /** A copy of a random in-flight message, leaving the original queued (duplication). */
  duplicate(rng: Rng): InFlight | undefined {
    if (this.queue.length === 0) return undefined;
    const f = this.queue[rng.int(this.queue.length)]!;
    return { message: copyMessage(f.message), senderIncarnation: f.senderIncarnation };
  }

  cut(from: NodeId, to: NodeId): void {
    this.cuts.add(link(from, to));
  }

  /** Symmetric partition: nobody in one group reaches anybody in another. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) for (const b of groups) {
      if (a === b) continue;
      for (const x of a) for (const y of b) this.cut(x, y);
    }
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cuts.has(link(from, to));
  }

  hasCuts(): boolean {
    return this.cuts.size > 0;
  }

  heal(): void {
    this.cuts.clear();
  }

  describeCuts(): string {
    return [...this.cuts].sort().join(' ');
  }
}
