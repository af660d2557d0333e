import type * as http from 'node:http';

/**
 * Counts the HTTP/1.1 requests (gateway, /health, /metrics) whose answers are still being
 * written, so a graceful close can let them finish as grpc-js' tryShutdown does for gRPC
 * calls (etcd's HTTP server Shutdown waits for active requests the same way). Streams (watch,
 * keepalive, observe) are ended by OpenStreams first and then finish like any request.
 */
export class InFlightRequests {
  private count = 0;
  private waiters: Array<() => void> = [];

  /** Wraps a request listener so every request is counted until its response closes. */
  track(listener: http.RequestListener): http.RequestListener {
    return (req, res) => {
      this.count += 1;
      res.once('close', () => this.finished());
      listener(req, res);
    };
  }

  /** Resolves once no request is in flight (at once if none is). */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private finished(): void {
    this.count -= 1;
    if (this.count > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
