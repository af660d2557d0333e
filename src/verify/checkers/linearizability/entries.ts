import type { LinearizableOperation } from './model';

/**
 * The history as Porcupine's doubly linked list of call and return entries, in time order.
 * Node i (< n) is operation i's call, node n + i its return, node 2n the head sentinel.
 * Lifting an operation unlinks both its entries; unlifting (in LIFO order) relinks them,
 * because an unlinked node keeps its own prev/next.
 */
export class EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly head: number;

  constructor(readonly operationCount: number, order: number[]) {
    const nodes = 2 * operationCount + 1;
    if (order.length !== 2 * operationCount) throw new Error('entry order must hold every call and return');
    this.head = 2 * operationCount;
    this.next = new Int32Array(nodes).fill(-1);
    this.prev = new Int32Array(nodes).fill(-1);
    let previous = this.head;
    for (const node of order) {
      this.next[previous] = node;
      this.prev[node] = previous;
      previous = node;
    }
  }

  isCall(node: number): boolean {
    return node < this.operationCount;
  }

  isEmpty(): boolean {
    return this.next[this.head] === -1;
  }

  first(): number {
    return this.next[this.head]!;
  }

  /** Unlinks call node `call` and its return. */
  lift(call: number): void {
    this.unlink(call);
    this.unlink(call + this.operationCount);
  }

  /** Relinks what lift(call) unlinked; must undo lifts in reverse order. */
  unlift(call: number): void {
    this.relink(call + this.operationCount);
    this.relink(call);
  }

  private unlink(node: number): void {
    const before = this.prev[node]!;
    const after = this.next[node]!;
    this.next[before] = after;
    if (after !== -1) this.prev[after] = before;
  }

  private relink(node: number): void {
    const before = this.prev[node]!;
    const after = this.next[node]!;
    this.next[before] = node;
    if (after !== -1) this.prev[after] = node;
  }
}

/**
 * Entry order: by time; at equal times calls before returns (touching operations count as
 * concurrent, the conservative choice); ties broken by operation index for determinism.
 */
export function entryOrder<I, O>(operations: readonly LinearizableOperation<I, O>[]): number[] {
  const n = operations.length;
  const nodes: number[] = [];
  for (let i = 0; i < 2 * n; i++) nodes.push(i);
  const timeOf = (node: number): number =>
    node < n ? operations[node]!.startMs : operations[node - n]!.endMs;
  nodes.sort((a, b) => {
    const ta = timeOf(a);
    const tb = timeOf(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    const aCall = a < n ? 0 : 1;
    const bCall = b < n ? 0 : 1;
    if (aCall !== bCall) return aCall - bCall;
    return a - b;
  });
  return nodes;
}
