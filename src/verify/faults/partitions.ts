import type { PeerProxy } from './proxy';

/**
 * Partition shapes over member names, as sets of directed links to cut. A link (from → to)
 * is cut at `to`'s proxy: connections that `from` dialed to `to` are dropped and refused.
 * Limitation: a connection carries traffic both ways, so "one-way" cuts the connections one
 * side dials; with etcd's transport (each side reads from a stream it dialed) and latchkey's
 * (each side dials the peers it sends to) that still leaves the other direction's own
 * connections intact, which is the asymmetry the fault is meant to create.
 */
export type DirectedLink = readonly [from: string, to: string];

/** Every link between the two groups, both directions. */
export function splitLinks(a: readonly string[], b: readonly string[]): DirectedLink[] {
  const links: DirectedLink[] = [];
  for (const x of a) for (const y of b) links.push([x, y], [y, x]);
  return links;
}

/**
 * Bridge (Jepsen): two halves that cannot talk to each other, plus one member that talks to
 * both. For members [m0..m4] and bridge m2: {m0,m1} | {m3,m4}, m2 sees all.
 */
export function bridgeLinks(names: readonly string[], bridge: string): DirectedLink[] {
  const others = names.filter((n) => n !== bridge);
  const half = Math.floor(others.length / 2);
  return splitLinks(others.slice(0, half), others.slice(half));
}

/** `from` can no longer reach any other member; the others still reach it. */
export function oneWayLinks(names: readonly string[], from: string): DirectedLink[] {
  return names.filter((n) => n !== from).map((to) => [from, to] as const);
}

export function applyLinks(proxies: ReadonlyMap<string, PeerProxy>, links: readonly DirectedLink[]): void {
  for (const [from, to] of links) {
    const proxy = proxies.get(to);
    if (proxy === undefined) throw new Error(`no proxy for ${to}`);
    proxy.block(from);
  }
}

export function healLinks(proxies: ReadonlyMap<string, PeerProxy>): void {
  for (const proxy of proxies.values()) proxy.unblockAll();
}

export function describeLinks(links: readonly DirectedLink[]): string {
  return links.map(([from, to]) => `${from}->${to}`).join(' ');
}
