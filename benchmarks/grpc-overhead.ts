import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import * as net from 'node:net';

/**
 * `node dist/benchmarks/grpc-overhead.js [seconds]`: what one unary gRPC call costs the
 * SERVER process in CPU, with an empty handler, for (a) a grpc-js Server and (b) a bare
 * node:http2 server speaking the same gRPC framing. The same grpc-js client drives both
 * with 64 calls in flight, from a child process so its CPU is not counted.
 *
 * Why: latchkey's profiles put most of a member's CPU in the request path around the
 * handlers; this separates the transport's own cost from ours.
 */

const SERVICE = '/bench.Echo/Call';
const passThrough = (b: Buffer): Buffer => b;
const IN_FLIGHT = 64;

async function grpcJsServer(options: grpc.ServerOptions = {}): Promise<{ port: number; close: () => void }> {
  const server = new grpc.Server(options);
  server.addService(
    { Call: { path: SERVICE, requestStream: false, responseStream: false, requestSerialize: passThrough, requestDeserialize: passThrough, responseSerialize: passThrough, responseDeserialize: passThrough } },
    { Call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request) },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, close: () => server.forceShutdown() };
}

/** The least a gRPC unary answer needs: 200 + content-type, one framed message, grpc-status trailer. */
async function bareHttp2Server(): Promise<{ port: number; close: () => void }> {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Client side: runs in a child process (argv: client <port> <seconds>), prints the call count. */
async function client(port: number, seconds: number): Promise<void> {
  const c = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const payload = Buffer.alloc(300, 1);
  const deadline = Date.now() + seconds * 1000;
  let calls = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (Date.now() < deadline) {
        await new Promise<void>((resolve, reject) => c.makeUnaryRequest(SERVICE, passThrough, passThrough, payload, (err) => (err ? reject(err) : resolve())));
        calls++;
      }
    }),
  );
  c.close();
  process.stdout.write(`${calls}\n`);
}

async function measure(label: string, start: () => Promise<{ port: number; close: () => void }>, seconds: number): Promise<void> {
  const { port, close } = await start();
  const { execFile } = await import('node:child_process');
  const before = cpuMs();
  const output = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [__filename, 'client', String(port), String(seconds)], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const used = cpuMs() - before;
  close();
  const calls = Number(output.trim());
  process.stdout.write(`| ${label} | ${calls} | ${(calls / seconds).toFixed(0)} | ${((1000 * used) / calls).toFixed(1)} |\n`);
}

async function main(): Promise<void> {
  const [mode, portText, secondsText] = process.argv.slice(2);
  if (mode === 'client') return client(Number(portText), Number(secondsText));
  const seconds = Number(mode ?? 5);
  process.stdout.write(`| server | calls | calls/s | server CPU µs per call |\n|---|---:|---:|---:|\n`);
  await measure('grpc-js Server, empty handler', () => grpcJsServer(), seconds);
  await measure('grpc-js Server, channelz off', () => grpcJsServer({ 'grpc.enable_channelz': 0 }), seconds);
  // What latchkey's grpc_server_handled_total interceptor adds (one ServerInterceptingCall layer).
  const statusInterceptor: grpc.ServerInterceptor = (_descriptor, call) =>
    new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder().withSendStatus((status, next) => next(status)).build());
  await measure('grpc-js Server, channelz off, one interceptor', () => grpcJsServer({ 'grpc.enable_channelz': 0, interceptors: [statusInterceptor] }), seconds);
  await measure('bare node:http2, same framing', bareHttp2Server, seconds);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
