/**
 * The simulated members' state machine: a tiny KV map driven by committed entries, with the
 * member's consistent-index rule (an entry at or below the applied index is skipped on
 * replay). It folds every applied entry into a running digest, so two members that applied
 * different sequences (or one that applied an entry twice, or skipped one) disagree on the
 * digest at the same index.
 */
import { EntryType, type Entry } from '../../src/consensus';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type KvCommand = { op: 'put'; key: string; value: string } | { op: 'del'; key: string };

export function encodeCommand(cmd: KvCommand): Uint8Array {
  return encoder.encode(cmd.op === 'put' ? `put\u0000${cmd.key}\u0000${cmd.value}` : `del\u0000${cmd.key}`);
}

export function decodeCommand(data: Uint8Array): KvCommand {
  const parts = decoder.decode(data).split('\u0000');
  if (parts[0] === 'put' && parts.length === 3) return { op: 'put', key: parts[1]!, value: parts[2]! };
  if (parts[0] === 'del' && parts.length === 2) return { op: 'del', key: parts[1]! };
  throw new Error(`undecodable command ${JSON.stringify(decoder.decode(data))}`);
}

/** A short text identity of an entry (term, type and payload), for comparing entries. */
export function entryKey(e: Entry): string {
  return `${e.term}/${e.type}/${Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('base64')}`;
}

function fnv1a(seed: number, text: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export interface KvImage {
  appliedIndex: string;
  digest: number;
  writes: number;
  kv: [string, string][];
}

export class KvStateMachine {
  readonly kv = new Map<string, string>();
  /** The consistent index: every entry up to it has been applied. */
  appliedIndex = 0n;
  /** Running hash of every applied (index, entry). */
  digest = 0x811c9dc5;
  /** Number of mutations applied (a double apply changes it). */
  writes = 0;

  /**
   * Applies one committed entry in index order. Returns false if it was skipped because the
   * state machine already holds it (replay after restart).
   */
  apply(entry: Entry): boolean {
    if (entry.index <= this.appliedIndex) return false;
    if (entry.index !== this.appliedIndex + 1n) {
      throw new Error(`state machine gap: applied ${this.appliedIndex}, next entry ${entry.index}`);
    }
    if (entry.type === EntryType.Normal && entry.data.length > 0) {
      const cmd = decodeCommand(entry.data);
      if (cmd.op === 'put') this.kv.set(cmd.key, cmd.value);
      else this.kv.delete(cmd.key);
      this.writes++;
    }
    this.appliedIndex = entry.index;
    this.digest = fnv1a(this.digest, `${entry.index}:${entryKey(entry)}`);
    return true;
  }

  image(): KvImage {
    return { appliedIndex: this.appliedIndex.toString(), digest: this.digest, writes: this.writes, kv: [...this.kv.entries()] };
  }

  static fromImage(image: KvImage): KvStateMachine {
    const sm = new KvStateMachine();
    for (const [k, v] of image.kv) sm.kv.set(k, v);
    sm.appliedIndex = BigInt(image.appliedIndex);
    sm.digest = image.digest;
    sm.writes = image.writes;
    return sm;
  }

  encode(): Uint8Array {
    return encoder.encode(JSON.stringify(this.image()));
  }

  static decode(data: Uint8Array): KvStateMachine {
    return KvStateMachine.fromImage(JSON.parse(decoder.decode(data)) as KvImage);
  }
}
