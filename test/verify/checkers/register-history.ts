import type { RegisterInput, RegisterOperation, RegisterValue } from '../../../src/verify/history';

/** mulberry32: a small seeded PRNG so generated histories reproduce from their seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedRegisterHistory {
  clients: number;
  keys: number;
  operations: number;
  /** Fraction of writes / cas whose outcome the client never learns. */
  unknownFraction: number;
  seed: number;
}

/**
 * A linearizable history by construction: each operation takes effect at a random instant
 * inside its [start, end] interval, against a true register per key; clients run one
 * operation at a time with realistic overlap.
 */
export function generateRegisterHistory(spec: GeneratedRegisterHistory): RegisterOperation[] {
  const random = seededRandom(spec.seed);
  const pending: { operation: RegisterOperation; effectMs: number; appliesIfUnknown: boolean }[] = [];
  const clock = new Array<number>(spec.clients).fill(0);
  let nextValue = 0;
  for (let id = 0; id < spec.operations; id++) {
    const client = id % spec.clients;
    const startMs = clock[client]! + random() * 2;
    const endMs = startMs + 0.5 + random() * 8;
    clock[client] = endMs;
    const key = `k${Math.floor(random() * spec.keys)}`;
    const roll = random();
    let input: RegisterInput;
    if (roll < 0.5) input = { key, op: 'read' };
    else if (roll < 0.8) input = { key, op: 'write', value: `v${nextValue++}` };
    else input = { key, op: 'cas', expected: nextValue > 0 ? `v${Math.max(0, nextValue - 1 - Math.floor(random() * 3))}` : null, value: `v${nextValue++}` };
    const unknown = input.op !== 'read' && random() < spec.unknownFraction;
    const operation: RegisterOperation = {
      id,
      client,
      input,
      status: unknown ? 'unknown' : 'ok',
      startMs,
      endMs: unknown ? Infinity : endMs,
    };
    pending.push({ operation, effectMs: startMs + random() * (endMs - startMs), appliesIfUnknown: random() < 0.5 });
  }
  pending.sort((a, b) => a.effectMs - b.effectMs);
  const registers = new Map<string, RegisterValue>();
  for (const { operation, appliesIfUnknown } of pending) {
    if (operation.status === 'unknown' && !appliesIfUnknown) continue;
    const input = operation.input;
    const current = registers.get(input.key) ?? null;
    if (input.op === 'read') {
      operation.output = { value: current };
    } else if (input.op === 'write') {
      registers.set(input.key, input.value);
      if (operation.status === 'ok') operation.output = {};
    } else {
      const succeeded = current === input.expected;
      if (succeeded) registers.set(input.key, input.value);
      if (operation.status === 'ok') operation.output = { succeeded };
    }
  }
  return pending.map((p) => p.operation).sort((a, b) => a.id - b.id);
}
