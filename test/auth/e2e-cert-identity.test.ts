import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctl, etcdctlOk, type EtcdctlTls } from '../support/etcdctl';
import { startLatchkey, stopAll } from '../support/processes';
import { TestPki } from '../support/tls-certs';
import { ROOT } from './e2e-scenario';

after(() => stopAll());

/**
 * With --client-cert-auth, a request without a token is made by the user named in the
 * client certificate's CN (etcd's AuthInfoFromTLS); a token, when sent, wins.
 */
test('the client certificate CN is the user when no token is sent', { timeout: 90_000 }, async () => {
  const pki = new TestPki();
  try {
    const ca = pki.makeCa('auth-ca');
    const server = pki.issue(ca, 'localhost', 'server');
    const member = await startLatchkey({
      clientScheme: 'https',
      readiness: 'none',
      extraArgs: ['--cert-file', server.certFile, '--key-file', server.keyFile, '--trusted-ca-file', ca.certFile, '--client-cert-auth=true'],
    });
    const as = (cn: string): EtcdctlTls => {
      const pair = pki.issue(ca, cn);
      return { cacert: ca.certFile, cert: pair.certFile, key: pair.keyFile };
    };
    const rootTls = as('root');
    const readerTls = as('reader');
    const strangerTls = as('stranger');
    // Bounded wait for the member (a TLS member is started without the default readiness probe).
    const deadline = Date.now() + 20_000;
    while ((await etcdctl(member.clientUrl, ['endpoint', 'health', '--command-timeout=1s'], { tls: rootTls, timeoutMs: 5_000 })).code !== 0) {
      assert.ok(Date.now() < deadline, `member not healthy\n${member.output().slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const admin = async (args: string[]): Promise<string> => etcdctlOk(member.clientUrl, ['--user', ROOT, ...args], { tls: rootTls });
    await etcdctlOk(member.clientUrl, ['user', 'add', ROOT], { tls: rootTls });
    await etcdctlOk(member.clientUrl, ['user', 'add', 'reader:rpw'], { tls: rootTls });
    await etcdctlOk(member.clientUrl, ['role', 'add', 'app-read'], { tls: rootTls });
    await etcdctlOk(member.clientUrl, ['role', 'grant-permission', 'app-read', 'read', '/app/', '--prefix=true'], { tls: rootTls });
    await etcdctlOk(member.clientUrl, ['user', 'grant-role', 'reader', 'app-read'], { tls: rootTls });
    await etcdctlOk(member.clientUrl, ['auth', 'enable'], { tls: rootTls });
    await admin(['put', '/app/x', 'v']);

    // No --user: the CN speaks. root may do anything, reader only read /app/.
    assert.equal(await etcdctlOk(member.clientUrl, ['put', '/other', 'v'], { tls: rootTls }), 'OK\n');
    assert.equal(await etcdctlOk(member.clientUrl, ['get', '/app/x', '--print-value-only'], { tls: readerTls }), 'v\n');
    const denied = await etcdctl(member.clientUrl, ['put', '/app/x', 'w'], { tls: readerTls });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /etcdserver: permission denied/);
    // A CN naming no user with any permission is refused as well.
    const stranger = await etcdctl(member.clientUrl, ['get', '/app/x'], { tls: strangerTls });
    assert.notEqual(stranger.code, 0);
    assert.match(stranger.stderr, /etcdserver: (permission denied|user name not found)/);
    // A token wins over the certificate: root's certificate with reader's credentials.
    const asReader = await etcdctl(member.clientUrl, ['--user', 'reader:rpw', 'put', '/app/x', 'w'], { tls: rootTls });
    assert.match(asReader.stderr, /etcdserver: permission denied/);
    await member.stop();
  } finally {
    pki.remove();
  }
});
