import type { ServerKind } from '../support/processes';

/**
 * Which servers the client-compatibility suites run against. Default: latchkey, plus etcd
 * to prove that the assertions themselves match the reference. LATCHKEY_COMPAT_SERVERS=
 * "latchkey" (or "etcd") narrows the list.
 */
export function compatTargets(): ServerKind[] {
  const raw = process.env.LATCHKEY_COMPAT_SERVERS ?? 'etcd,latchkey';
  const kinds = raw.split(',').map((kind) => kind.trim()).filter((kind) => kind !== '');
  for (const kind of kinds) {
    if (kind !== 'etcd' && kind !== 'latchkey') throw new Error(`LATCHKEY_COMPAT_SERVERS: unknown server kind ${kind}`);
  }
  return kinds as ServerKind[];
}
