import * as path from 'node:path';
import type { Logger } from '../log';
import { tlsConfigured, validateTls, type MemberConfig, type TlsFlags } from '../server/config';
import { ensureSelfSignedCert } from './auto-tls';
import { cipherOptions } from './cipher-suites';
import { PeerClientTls, type PeerTlsSettings } from './peer-tls';
import type { ServerTlsSettings } from './server-tls';
import { TlsReloader } from './tls-files';

/** A member's TLS, ready for the client server and the peer transport. */
export interface MemberTls {
  /** Serves https:// client URLs; undefined when no client TLS is configured. */
  client?: ServerTlsSettings;
  peer: PeerTlsSettings;
}

/**
 * Validates the TLS flags (ConfigError on a problem), generates auto-TLS certificates
 * (<data-dir>/fixtures/client and /peer, as etcd does) and loads every certificate.
 * Explicit --cert-file/--key-file win over --auto-tls, as in etcd.
 */
export async function prepareMemberTls(config: MemberConfig, logger: Logger): Promise<MemberTls> {
  validateTls(config);
  const log = logger.child({ component: 'tls' });
  const extra = cipherOptions(config.cipherSuites);
  const load = async (flags: TlsFlags, side: 'client' | 'peer', urls: string[]): Promise<{ settings: ServerTlsSettings; auto: boolean } | undefined> => {
    if (!tlsConfigured(flags)) return undefined;
    let { certFile, keyFile } = flags;
    const auto = certFile === '' || keyFile === '';
    if (auto) ({ certFile, keyFile } = await ensureSelfSignedCert(path.join(config.dataDir, 'fixtures', side), urls, log));
    const reloader = new TlsReloader({ certFile, keyFile, trustedCaFile: flags.trustedCaFile }, extra, log.child({ side }));
    return { settings: { reloader, clientCertAuth: flags.clientCertAuth, allowedCn: flags.allowedCn }, auto };
  };
  const client = await load(config.clientTls, 'client', [...config.listenClientUrls, ...config.advertiseClientUrls]);
  const peer = await load(config.peerTls, 'peer', [...config.listenPeerUrls, ...config.initialAdvertisePeerUrls]);
  return {
    ...(client === undefined ? {} : { client: client.settings }),
    peer: peer === undefined ? {} : { server: peer.settings, client: new PeerClientTls(peer.settings.reloader, peer.auto) },
  };
}
