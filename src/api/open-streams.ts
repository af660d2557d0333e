/**
 * Long-lived streams (Watch, LeaseKeepAlive, Health/Watch) that a graceful shutdown must
 * end itself: grpc-js' tryShutdown would otherwise wait for clients that never hang up.
 */
export class OpenStreams {
  private readonly enders = new Set<() => void>();
  private stopping = false;

  /** Registers a stream's ender; returns the function that unregisters it. */
  add(end: () => void): () => void {
    if (this.stopping) {
      end();
      return () => {};
    }
    this.enders.add(end);
    return () => {
      this.enders.delete(end);
    };
  }

  get size(): number {
    return this.enders.size;
  }

  /** Ends every registered stream, and any registered from now on. */
  endAll(): void {
    this.stopping = true;
    const enders = [...this.enders];
    this.enders.clear();
    for (const end of enders) end();
  }
}
