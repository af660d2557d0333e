import { createHash } from 'node:crypto';
import type { MemberInfo } from '../api/member-port';
import { compareBigints } from '../compare-bigints';

/** A member's id as etcd derives it: sha1(sorted peer URLs joined, cluster token)[0:8]. */
export function computeMemberId(peerUrls: readonly string[], clusterToken: string): bigint {
  const digest = createHash('sha1').update([...peerUrls].sort().join('') + clusterToken).digest();
  return digest.readBigUInt64BE(0);
}

/** The cluster id as etcd derives it: sha1 over the sorted member ids, 8 bytes each. */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const bytes = Buffer.alloc(8 * memberIds.length);
  [...memberIds].sort(compareBigints).forEach((id, i) => bytes.writeBigUInt64BE(id, i * 8));
  return createHash('sha1').update(bytes).digest().readBigUInt64BE(0);
}

/** Membership records as stored (JSON with ids as decimal strings, since they exceed 2^53). */
interface StoredMember {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export function encodeMembers(members: readonly MemberInfo[]): Buffer {
  const stored: StoredMember[] = members.map((m) => ({ ...m, id: m.id.toString() }));
  return Buffer.from(JSON.stringify(stored));
}

export function decodeMembers(bytes: Uint8Array): MemberInfo[] {
  const stored = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredMember[];
  return stored.map((m) => ({ ...m, id: BigInt(m.id) }));
}

/** The members this process knows, in id order (etcdctl prints them as given). */
export class Membership {
  private readonly members = new Map<bigint, MemberInfo>();
  private readonly removedIds = new Set<bigint>();

  constructor(
    readonly clusterId: bigint,
    readonly localId: bigint,
    initial: readonly MemberInfo[],
  ) {
    for (const m of initial) this.members.set(m.id, { ...m });
  }

  list(): MemberInfo[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: bigint): MemberInfo | undefined {
    return this.members.get(id);
  }

  add(member: MemberInfo): void {
    this.members.set(member.id, { ...member });
  }

  remove(id: bigint): void {
    this.members.delete(id);
    this.removedIds.add(id);
  }

  /** Whether `id` was removed from the cluster while this process ran (its traffic is refused). */
  wasRemoved(id: bigint): boolean {
    return this.removedIds.has(id);
  }

  replaceAll(members: readonly MemberInfo[]): void {
    this.members.clear();
    for (const m of members) this.members.set(m.id, { ...m });
  }

  /** A member's attributes or peer URLs changed (UpdateNode); fields left empty are kept. */
  update(change: MemberInfo): void {
    const known = this.members.get(change.id);
    if (known === undefined) return;
    this.members.set(change.id, {
      ...known,
      name: change.name !== '' ? change.name : known.name,
      peerUrls: change.peerUrls.length > 0 ? [...change.peerUrls] : known.peerUrls,
      clientUrls: change.clientUrls.length > 0 ? [...change.clientUrls] : known.clientUrls,
    });
  }

  promote(id: bigint): void {
    const known = this.members.get(id);
    if (known !== undefined) this.members.set(id, { ...known, isLearner: false });
  }

  peers(): MemberInfo[] {
    return this.list().filter((m) => m.id !== this.localId);
  }

  /** This process publishes its name and client URLs, as etcd does after it starts. */
  publishLocal(name: string, clientUrls: string[]): void {
    const local = this.members.get(this.localId);
    if (local !== undefined) this.members.set(this.localId, { ...local, name, clientUrls: [...clientUrls] });
  }

  voterIds(): bigint[] {
    return this.list().filter((m) => !m.isLearner).map((m) => m.id);
  }
}
