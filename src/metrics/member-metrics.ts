/**
 * The small surface other components call to record what they do. Storage and consensus code
 * get this (or a callback made from it), never prom-client itself.
 */
export interface MemberMetrics {
  /** The member saw a new (non-empty) leader. */
  leaderChanged(): void;
  /** A proposal started (+1) or finished (-1) waiting for its apply. */
  proposalPending(delta: number): void;
  proposalFailed(): void;
  /** One WAL write + fdatasync (a group commit), in seconds. */
  walFsync(seconds: number): void;
  /** One backend (LMDB) commit, in seconds. */
  backendCommit(seconds: number): void;
  peerRoundTrip(peerId: string, seconds: number): void;
  /** Lock waiters queued (+1) or gone (-1). */
  lockWaiters(delta: number): void;
  lockHeld(seconds: number): void;
  lockHandover(seconds: number): void;
}

/** Records nothing: the default where no registry is wired (tests, tools). */
export const NO_METRICS: MemberMetrics = {
  leaderChanged: () => undefined,
  proposalPending: () => undefined,
  proposalFailed: () => undefined,
  walFsync: () => undefined,
  backendCommit: () => undefined,
  peerRoundTrip: () => undefined,
  lockWaiters: () => undefined,
  lockHeld: () => undefined,
  lockHandover: () => undefined,
};
