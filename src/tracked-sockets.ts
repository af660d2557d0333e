import type * as net from 'node:net';

/**
 * The connections a listener has accepted, so a forced shutdown can cut them. `admit`
 * refuses (destroys) a socket that arrives after closing started. A socket's errors belong
 * to whoever takes it next (grpc-js, the HTTP server, a TLS terminator); the no-op listener
 * only keeps a reset before that from being an unhandled 'error' event.
 */
export class TrackedSockets {
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly closing: () => boolean) {}

  admit(socket: net.Socket): boolean {
    if (this.closing()) {
      socket.destroy();
      return false;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    return true;
  }

  /** Ends every connection after what was written (a GOAWAY, say) is flushed. */
  endAll(): void {
    for (const socket of this.sockets) socket.end();
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
