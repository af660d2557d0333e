import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import type { Logger } from '../log';
import { createGrpcServices, maxReceiveBytes, type GrpcServicesOptions } from './grpc-services';
import type { MemberPort } from './member-port';
import { OpenStreams } from './open-streams';

/**
 * grpc-js' own frame limit. Our deserializer enforces the real limit (max-request-bytes +
 * 512 KiB) with grpc-go's text; this outer bound only caps what grpc-js buffers for one
 * message before our check can run (beyond it grpc-js answers with its own text).
 */
export const GRPC_JS_FRAME_LIMIT_BYTES = 64 * 1024 * 1024;

/** How long close() waits for in-flight calls before cutting connections. */
export const GRACEFUL_CLOSE_MS = 2000;

export function serverOptions(receiveLimitBytes: number): ChannelOptions {
  return {
    'grpc.max_receive_message_length': Math.max(GRPC_JS_FRAME_LIMIT_BYTES, receiveLimitBytes),
    'grpc.max_send_message_length': -1,
    'grpc.max_concurrent_streams': 4294967295,
    // etcdctl pings every 2 s. grpc-js servers do not police client pings (no
    // too_many_pings GOAWAY), so these only state the intent for grpc-go-style enforcers:
    // pings are welcome, with or without calls in flight.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 1000,
    'grpc.http2.max_ping_strikes': 0,
  };
}

/** Parses `http://host:port` client URLs (h2c only; TLS is not supported yet). */
export function bindAddressOf(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:') throw new Error(`unsupported client URL scheme in ${url} (only http:// is served)`);
  // URL drops the scheme's default port (80), so an empty port means ":80" or none at all.
  const port = parsed.port === '' ? '80' : parsed.port;
  return `${parsed.hostname}:${port}`;
}

/** The gRPC endpoint clients talk to: etcd's v3 API over h2c on every client URL. */
export class ClientServer {
  private readonly server: Server;
  private readonly logger: Logger;
  private readonly boundPorts: number[] = [];
  private readonly openStreams = new OpenStreams();
  private closed = false;

  constructor(member: MemberPort, logger: Logger, options: Pick<GrpcServicesOptions, 'watchMaxBufferedBytes'> = {}) {
    this.logger = logger.child({ component: 'client-server' });
    this.server = new Server(serverOptions(maxReceiveBytes(member)));
    for (const service of createGrpcServices(member, this.logger, { ...options, openStreams: this.openStreams })) {
      this.server.addService(service.definition, service.implementation);
    }
  }

  /** The ports bound by listen(), in URL order (useful with port 0). */
  get ports(): number[] {
    return this.boundPorts.slice();
  }

  async listen(urls: string[]): Promise<void> {
    if (this.closed) throw new Error('ClientServer is closed');
    for (const url of urls) {
      const address = bindAddressOf(url);
      const port = await new Promise<number>((resolve, reject) => {
        this.server.bindAsync(address, ServerCredentials.createInsecure(), (err, boundPort) => (err ? reject(err) : resolve(boundPort)));
      });
      this.boundPorts.push(port);
      this.logger.info({ url, port }, 'serving client requests');
    }
  }

  /**
   * Stops accepting calls, ends watch and keepalive streams (UNAVAILABLE "server stopped",
   * so clients move to another member), lets unary calls finish for a while, then cuts
   * whatever is left.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const shutdown = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.openStreams.endAll();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn('graceful shutdown timed out; forcing');
        this.server.forceShutdown();
        resolve();
      }, GRACEFUL_CLOSE_MS);
      void shutdown.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
