import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { etcdctl, etcdctlOk } from '../support/etcdctl';
import { startLatchkey, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { TestPki, type CertPair, type TestCa } from '../support/tls-certs';
import { handshake, waitHealthy } from './helpers';

const skip = skipUnlessBinaries('etcdctl', 'openssl');

function httpsGet(port: number, pathname: string, options: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: pathname, method: 'GET', timeout: 5_000, ...options }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('client TLS on one member', { skip }, () => {
  let pki: TestPki;
  let ca: TestCa;
  let client: CertPair;
  before(() => {
    pki = new TestPki();
    ca = pki.makeCa('ca');
    client = pki.issue(ca, 'alice');
  });
  after(async () => {
    await stopAll();
    pki.remove();
  });

  test('--client-cert-auth: etcdctl and the gateway work with a client certificate, not without', async () => {
    const server = pki.issue(ca, 'server-auth');
    const member = await startLatchkey({
      clientScheme: 'https',
      readiness: 'none',
      extraArgs: ['--cert-file', server.certFile, '--key-file', server.keyFile, '--trusted-ca-file', ca.certFile, '--client-cert-auth=true'],
    });
    const flags = { cacert: ca.certFile, cert: client.certFile, key: client.keyFile };
    await waitHealthy(member, flags);
    await etcdctlOk(member.clientUrl, ['put', 'k', 'v'], { tls: flags });
    assert.equal(await etcdctlOk(member.clientUrl, ['get', 'k', '--print-value-only'], { tls: flags }), 'v\n');
    const refused = await etcdctl(member.clientUrl, ['get', 'k', '--command-timeout=2s'], { tls: { cacert: ca.certFile } });
    assert.notEqual(refused.code, 0);
    const health = await httpsGet(member.clientPort, '/health', { ca: fs.readFileSync(ca.certFile), cert: fs.readFileSync(client.certFile), key: fs.readFileSync(client.keyFile) });
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).health, 'true');
    const range = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: member.clientPort, path: '/v3/kv/range', method: 'POST', ca: fs.readFileSync(ca.certFile), cert: fs.readFileSync(client.certFile), key: fs.readFileSync(client.keyFile) },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ key: Buffer.from('k').toString('base64') }));
    });
    assert.equal(range.status, 200);
    assert.equal(JSON.parse(range.body).kvs[0].value, Buffer.from('v').toString('base64'));
    await assert.rejects(httpsGet(member.clientPort, '/health', { ca: fs.readFileSync(ca.certFile) }));
    const wrongCa = pki.makeCa('wrong-ca');
    const stranger = pki.issue(wrongCa, 'mallory');
    const strangerRun = await etcdctl(member.clientUrl, ['get', 'k', '--command-timeout=2s'], { tls: { cacert: ca.certFile, cert: stranger.certFile, key: stranger.keyFile } });
    assert.notEqual(strangerRun.code, 0);
    await member.stop();
  });

  test('a replaced certificate is served to new connections without a restart', async () => {
    const first = pki.issue(ca, 'server-one', 'rotating');
    const member = await startLatchkey({
      clientScheme: 'https',
      readiness: 'none',
      extraArgs: ['--cert-file', first.certFile, '--key-file', first.keyFile],
    });
    const flags = { cacert: ca.certFile };
    await waitHealthy(member, flags);
    const before = await handshake(member.clientPort, { ca: fs.readFileSync(ca.certFile) });
    assert.ok(before.ok && before.cn === 'server-one', JSON.stringify(before));
    pki.issue(ca, 'server-two', 'rotating');
    // Files are looked at once a second at most: poll new connections (bounded).
    const deadline = Date.now() + 8_000;
    let seen: Awaited<ReturnType<typeof handshake>> = before;
    while (Date.now() < deadline) {
      seen = await handshake(member.clientPort, { ca: fs.readFileSync(ca.certFile) });
      if (seen.ok && seen.cn === 'server-two') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(seen.ok && seen.cn === 'server-two' && seen.serial !== before.serial, JSON.stringify(seen));
    await etcdctlOk(member.clientUrl, ['put', 'after-reload', 'yes'], { tls: flags });
    await member.stop();
  });

  test('--auto-tls: a self-signed certificate under <data-dir>/fixtures/client, etcdctl --insecure-skip-tls-verify works', async () => {
    const member = await startLatchkey({ clientScheme: 'https', readiness: 'none', extraArgs: ['--auto-tls=true'] });
    const flags = { insecureSkipTlsVerify: true };
    await waitHealthy(member, flags);
    await etcdctlOk(member.clientUrl, ['put', 'auto', 'tls'], { tls: flags });
    assert.equal(await etcdctlOk(member.clientUrl, ['get', 'auto', '--print-value-only'], { tls: flags }), 'tls\n');
    assert.ok(fs.existsSync(path.join(member.dataDir, 'fixtures', 'client', 'cert.pem')));
    await member.stop();
  });

  test('--cipher-suites: a TLS 1.2 handshake outside the list fails, inside it succeeds', async () => {
    const server = pki.issue(ca, 'server-ciphers');
    const member = await startLatchkey({
      clientScheme: 'https',
      readiness: 'none',
      extraArgs: ['--cert-file', server.certFile, '--key-file', server.keyFile, '--cipher-suites', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305'],
    });
    await waitHealthy(member, { cacert: ca.certFile });
    const caPem = fs.readFileSync(ca.certFile);
    const outside = await handshake(member.clientPort, { ca: caPem, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' });
    assert.equal(outside.ok, false);
    const inside = await handshake(member.clientPort, { ca: caPem, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    assert.ok(inside.ok && inside.cipher === 'ECDHE-RSA-AES128-GCM-SHA256', JSON.stringify(inside));
    await member.stop();
  });
});
