/** Damage the WAL cannot repair safely: the member must not start (never silent loss). */
export class WalCorruptionError extends Error {
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`WAL corruption in ${path} at byte offset ${offset}: ${reason}; refusing to start (restore this member from a peer or a backup)`);
    this.name = 'WalCorruptionError';
  }
}
