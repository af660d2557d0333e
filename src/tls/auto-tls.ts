import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Logger } from '../log';

/** Validity of a generated certificate (etcd's SelfCert uses one year). */
const VALIDITY_DAYS = 365;

/**
 * --auto-tls / --peer-auto-tls: a self-signed certificate and key in `dir` (etcd uses
 * <data-dir>/fixtures/client and <data-dir>/fixtures/peer), valid for the hosts of the
 * given URLs. Existing files are reused, so a restarted member keeps its certificate.
 */
export async function ensureSelfSignedCert(dir: string, urls: string[], logger: Logger): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    logger.info({ certFile }, 'reusing the self-signed certificate');
    return { certFile, keyFile };
  }
  const hosts = [...new Set(urls.map((url) => new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')))];
  const altNames = hosts.map((host) => (net.isIP(host) !== 0 ? { type: 7 as const, ip: host } : { type: 2 as const, value: host }));
  const notBeforeDate = new Date(Date.now() - 60_000);
  // Loaded only when a certificate must be made: the package pulls in an X.509 library that
  // costs every member a sixth of its start-up time otherwise.
  const { generate } = require('selfsigned') as typeof import('selfsigned');
  const pems = await generate([{ name: 'organizationName', value: 'etcd' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALIDITY_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Key first: a crash between the writes leaves no cert.pem, so the pair is made again.
  fs.writeFileSync(keyFile, pems.private, { mode: 0o600 });
  fs.writeFileSync(certFile, pems.cert, { mode: 0o644 });
  logger.info({ certFile, hosts }, 'generated a self-signed certificate');
  return { certFile, keyFile };
}
