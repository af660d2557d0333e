import * as net from 'node:net';

/**
 * Ports handed out by this test process. The OS may hand the same ephemeral port to two
 * successive bind(0) calls once the first socket is closed, so remember what was given out
 * and never return it twice (bounded: a test process uses at most a few hundred ports).
 */
const handedOut = new Set<number>();
const MAX_ATTEMPTS = 50;

function bindEphemeral(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('listen on 127.0.0.1:0 returned no port'));
        return;
      }
      const port = address.port;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** One free TCP port on 127.0.0.1, never one already returned by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const port = await bindEphemeral();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no fresh loopback port after ${MAX_ATTEMPTS} attempts`);
}

/** `count` distinct free TCP ports on 127.0.0.1. */
export async function freePorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1 || count > 100) throw new Error(`bad port count ${count}`);
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}
