import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, defaultConfig, noTls, validateTls, type MemberConfig } from '../../src/server/config';
import { cipherOptions, unknownCipherSuites } from '../../src/tls/cipher-suites';
import { ensureSelfSignedCert } from '../../src/tls/auto-tls';
import { silentLogger } from '../../src/log';
import { TestPki, type CertPair, type TestCa } from '../support/tls-certs';

function config(overrides: Partial<MemberConfig>): MemberConfig {
  return { ...defaultConfig(), ...overrides };
}

describe('validateTls', () => {
  let pki: TestPki;
  let ca: TestCa;
  let server: CertPair;
  let other: CertPair;
  before(() => {
    pki = new TestPki();
    ca = pki.makeCa('ca');
    server = pki.issue(ca, 'server');
    other = pki.issue(ca, 'other');
  });
  after(() => pki.remove());

  test('an https client URL without a certificate is refused with etcd\'s message', () => {
    const c = config({ listenClientUrls: ['https://127.0.0.1:2379'] });
    assert.throws(() => validateTls(c), (err: unknown) => err instanceof ConfigError && /TLS key\/cert \(--cert-file, --key-file\) must be provided for client url https:\/\/127.0.0.1:2379 with HTTPS scheme/.test(err.message));
  });

  test('an https peer URL without a peer certificate is refused', () => {
    const c = config({ listenPeerUrls: ['https://127.0.0.1:2380'] });
    assert.throws(() => validateTls(c), (err: unknown) => err instanceof ConfigError && /cannot listen on TLS for 127.0.0.1:2380/.test(err.message));
  });

  test('auto TLS satisfies an https URL; plain http with TLS flags is allowed', () => {
    validateTls(config({ listenClientUrls: ['https://127.0.0.1:2379'], clientTls: { ...noTls(), autoTls: true } }));
    validateTls(config({ clientTls: { ...noTls(), certFile: server.certFile, keyFile: server.keyFile } }));
  });

  test('unreadable files, a lone cert and a mismatched key are ConfigErrors naming the flag', () => {
    const missing = path.join(pki.dir, 'nope.crt');
    assert.throws(() => validateTls(config({ clientTls: { ...noTls(), certFile: missing, keyFile: server.keyFile } })), (err: unknown) => err instanceof ConfigError && err.message.includes('--cert-file') && err.message.includes(missing));
    assert.throws(() => validateTls(config({ peerTls: { ...noTls(), certFile: server.certFile, keyFile: server.keyFile, trustedCaFile: missing } })), /--peer-trusted-ca-file/);
    assert.throws(() => validateTls(config({ clientTls: { ...noTls(), certFile: server.certFile } })), /--cert-file and --key-file must be given together/);
    assert.throws(() => validateTls(config({ clientTls: { ...noTls(), certFile: server.certFile, keyFile: other.keyFile } })), (err: unknown) => err instanceof ConfigError && /key values mismatch/.test(err.message));
    validateTls(config({ clientTls: { ...noTls(), certFile: server.certFile, keyFile: server.keyFile, trustedCaFile: ca.certFile, clientCertAuth: true } }));
  });

  test('a suite Go knows but this OpenSSL cannot offer is a ConfigError', () => {
    assert.throws(() => validateTls(config({ cipherSuites: ['TLS_RSA_WITH_RC4_128_SHA'] })), (err: unknown) => err instanceof ConfigError && /--cipher-suites: .*no cipher match/.test(err.message));
  });

  test('an unknown cipher suite is named', () => {
    assert.throws(() => validateTls(config({ cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_BOGUS'] })), (err: unknown) => err instanceof ConfigError && err.message === 'unexpected TLS cipher suite "TLS_BOGUS"');
  });
});

describe('cipher suites', () => {
  test('Go names map to OpenSSL names; TLS 1.3 suites stay enabled as in Go', () => {
    assert.deepEqual(unknownCipherSuites(['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'X']), ['X']);
    const { ciphers } = cipherOptions(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384']);
    assert.ok(ciphers?.endsWith(':ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384'));
    assert.ok(ciphers?.startsWith('TLS_AES_256_GCM_SHA384:'));
    assert.deepEqual(cipherOptions([]), {});
  });
});

describe('auto TLS', () => {
  test('makes a certificate for the URL hosts once and reuses it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-autotls-'));
    try {
      const first = await ensureSelfSignedCert(path.join(dir, 'fixtures', 'client'), ['https://127.0.0.1:2379', 'https://localhost:2379'], silentLogger());
      const pem = fs.readFileSync(first.certFile, 'utf8');
      const x509 = new (await import('node:crypto')).X509Certificate(pem);
      assert.match(x509.subjectAltName ?? '', /IP Address:127.0.0.1/);
      assert.match(x509.subjectAltName ?? '', /DNS:localhost/);
      const again = await ensureSelfSignedCert(path.join(dir, 'fixtures', 'client'), ['https://127.0.0.1:2379'], silentLogger());
      assert.equal(fs.readFileSync(again.certFile, 'utf8'), pem);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
