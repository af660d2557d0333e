import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { Logger } from '../log';
import { peerCommonName } from './client-identity';
import type { TlsReloader } from './tls-files';

/** How a listener serves TLS: its (reloading) certificate and whom it lets in. */
export interface ServerTlsSettings {
  reloader: TlsReloader;
  /** --client-cert-auth / --peer-client-cert-auth: a certificate signed by the trusted CA is required. */
  clientCertAuth: boolean;
  /** --peer-cert-allowed-cn: when not empty, the client certificate's CN must equal it. */
  allowedCn: string;
}

/** A TLS handshake that has not finished in this long is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Failed handshakes are warned about at most once per this interval (the rest at debug). */
const HANDSHAKE_WARN_INTERVAL_MS = 5_000;

/**
 * Terminates TLS on sockets accepted by our own TCP listeners and hands each decrypted
 * socket on. It drives a tls.Server that never listens: the server does the handshake and
 * the client-certificate check (a client without a certificate signed by the trusted CA is
 * refused before any byte reaches the API), and setSecureContext() swaps in reloaded
 * certificates for the next connection.
 */
export class TlsTerminator {
  private readonly server: tls.Server;
  private generation: number;
  private lastWarnMs = -Infinity;

  constructor(
    private readonly settings: ServerTlsSettings,
    alpnProtocols: string[],
    private readonly logger: Logger,
    onSecure: (socket: tls.TLSSocket) => void,
  ) {
    const { reloader, clientCertAuth } = settings;
    this.generation = reloader.generation;
    this.server = tls.createServer({
      ...reloader.contextOptions(),
      ALPNProtocols: alpnProtocols,
      requestCert: clientCertAuth,
      rejectUnauthorized: clientCertAuth,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    this.server.on('secureConnection', (socket: tls.TLSSocket) => {
      if (!this.admits(socket)) {
        socket.destroy();
        return;
      }
      onSecure(socket);
    });
    this.server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      // Like etcd's "rejected connection": worth a warning, but a client retrying in a loop
      // must not flood the log, so at most one warning per interval.
      const now = Date.now();
      const fields = { err: err.message, remote: socket.remoteAddress };
      if (now - this.lastWarnMs >= HANDSHAKE_WARN_INTERVAL_MS) {
        this.lastWarnMs = now;
        this.logger.warn(fields, 'TLS handshake failed; connection rejected');
      } else {
        this.logger.debug(fields, 'TLS handshake failed; connection rejected');
      }
      socket.destroy();
    });
  }

  /** Starts the handshake on a freshly accepted TCP socket. */
  accept(socket: net.Socket): void {
    if (this.settings.reloader.refresh() || this.settings.reloader.generation !== this.generation) {
      this.generation = this.settings.reloader.generation;
      this.server.setSecureContext(this.settings.reloader.contextOptions());
    }
    this.server.emit('connection', socket);
  }

  /** --peer-cert-allowed-cn, checked once the chain was verified (as etcd does in the handshake). */
  private admits(socket: tls.TLSSocket): boolean {
    const { allowedCn } = this.settings;
    if (allowedCn === '') return true;
    const cn = peerCommonName(socket);
    if (cn === allowedCn) return true;
    this.logger.warn({ remote: socket.remoteAddress, cn: cn ?? '(none)', allowedCn }, 'refused a peer certificate: CommonName authentication failed');
    return false;
  }
}
