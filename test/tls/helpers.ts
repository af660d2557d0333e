import * as tls from 'node:tls';
import { etcdctl, type EtcdctlTls } from '../support/etcdctl';
import type { ServerProcess } from '../support/processes';

/** Polls `etcdctl endpoint health` (a linearizable read: needs a leader) until it passes. */
export async function waitHealthy(member: ServerProcess, tlsFlags: EtcdctlTls, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (member.exited) throw new Error(`${member.name} exited before it was healthy\n${member.output().slice(-3000)}`);
    const result = await etcdctl(member.clientUrl, ['endpoint', 'health', '--command-timeout=1s'], { tls: tlsFlags, timeoutMs: 5_000 });
    if (result.code === 0) return;
    last = result.stderr || result.stdout;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${member.name} not healthy within ${timeoutMs} ms: ${last}\n${member.output().slice(-3000)}`);
}

/** Opens a TLS connection and reports what the handshake gave (or why it failed). */
export function handshake(port: number, options: tls.ConnectionOptions): Promise<{ ok: true; cn: string | undefined; cipher: string; serial: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, error: 'timeout' });
    }, 5_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      const cn = cert.subject?.CN;
      resolve({ ok: true, cn: typeof cn === 'string' ? cn : undefined, cipher: socket.getCipher().name, serial: cert.serialNumber });
      socket.end();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, error: err.message });
    });
  });
}
