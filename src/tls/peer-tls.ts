import * as tls from 'node:tls';
import { ChannelCredentials, credentials } from '@grpc/grpc-js';
import type { ServerTlsSettings } from './server-tls';
import type { TlsReloader } from './tls-files';

/**
 * How this member dials peers on https:// URLs: with its peer certificate as client
 * certificate (for --peer-client-cert-auth on the other side) and the peer trusted CA.
 * Every new client asks for credentials again, so reloaded files apply at the next dial.
 */
export class PeerClientTls {
  private cached: { generation: number; credentials: ChannelCredentials } | undefined;

  constructor(
    private readonly reloader: TlsReloader,
    /**
     * --peer-auto-tls: the peers' certificates are self-signed, so they are not verified
     * (etcd sets InsecureSkipVerify for auto TLS).
     */
    private readonly skipVerify: boolean,
  ) {}

  credentials(): ChannelCredentials {
    this.reloader.refresh();
    const generation = this.reloader.generation;
    if (this.cached?.generation !== generation) {
      const context = tls.createSecureContext(this.reloader.contextOptions());
      const verify = this.skipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {};
      this.cached = { generation, credentials: ChannelCredentials.createFromSecureContext(context, verify) };
    }
    return this.cached.credentials;
  }
}

/** Peer TLS as the transport takes it; both halves absent when --peer-cert-file etc. are not set. */
export interface PeerTlsSettings {
  /** Serves the https:// --listen-peer-urls. */
  server?: ServerTlsSettings;
  /** Dials https:// peer URLs. */
  client?: PeerClientTls;
}

/** Credentials for dialing one peer URL: h2c for http://, TLS for https://. */
export function peerChannelCredentials(url: string, settings: PeerTlsSettings | undefined): ChannelCredentials {
  if (!url.startsWith('https:')) return credentials.createInsecure();
  // Without peer TLS flags an https:// peer is still dialled with TLS, verified by the system roots.
  return settings?.client?.credentials() ?? credentials.createSsl();
}
