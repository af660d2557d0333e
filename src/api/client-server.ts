import { Server, ServerCredentials, type ChannelOptions, type ConnectionInjector } from '@grpc/grpc-js';
import * as dns from 'node:dns';
import * as http from 'node:http';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import type { AuthGate } from '../auth/auth-gate';
import { Gateway } from '../gateway/gateway';
import { httpFront } from '../gateway/http-front';
import type { Logger } from '../log';
import { countUnaryCalls, handledCounterInterceptor, type MetricsRegistry } from '../metrics';
import { AuthorityFixupStream, authorityFixupVerdict } from './authority-fixup';
import { TrackedSockets } from '../tracked-sockets';
import { createGrpcServices, maxReceiveBytes, type GrpcServicesOptions } from './grpc-services';
import type { MemberPort } from './member-port';
import { DirectUnaryRouter } from './direct-unary-router';
import { InFlightRequests } from './in-flight-requests';
import { OpenStreams } from './open-streams';
import { TlsTerminator, type ServerTlsSettings } from '../tls/server-tls';
import { Http2Connection } from './h2/connection';
import { CLIENT_PREFACE } from './h2/frame';

/**
 * grpc-js' own frame limit. Our deserializer enforces the real limit (max-request-bytes +
 * 512 KiB) with grpc-go's text; this outer bound only caps what grpc-js buffers for one
 * message before our check can run (beyond it grpc-js answers with its own text).
 */
export const GRPC_JS_FRAME_LIMIT_BYTES = 64 * 1024 * 1024;

/** The frame limit grpc-js (and the direct unary path) enforce for a receive limit. */
export function frameLimitBytes(receiveLimitBytes: number): number {
  return Math.max(GRPC_JS_FRAME_LIMIT_BYTES, receiveLimitBytes);
}

/** How long close() waits for in-flight calls before cutting connections. */
export const GRACEFUL_CLOSE_MS = 2000;

/** The gRPC connection limits etcd takes as flags (MemberConfig names, etcd defaults). */
export interface GrpcLimits {
  /** --max-concurrent-streams: streams one connection may have open at once. */
  maxConcurrentStreams: number;
  /** --grpc-keepalive-interval: the server pings a connection idle this long. */
  keepaliveIntervalMs: number;
  /** --grpc-keepalive-timeout: an unanswered server ping closes the connection after this. */
  keepaliveTimeoutMs: number;
  /** --grpc-keepalive-min-time: see serverOptions for why it is not enforced. */
  keepaliveMinTimeMs: number;
}

export const DEFAULT_GRPC_LIMITS: GrpcLimits = {
  maxConcurrentStreams: 4294967295,
  keepaliveIntervalMs: 2 * 3_600_000,
  keepaliveTimeoutMs: 20_000,
  keepaliveMinTimeMs: 5_000,
};

/** The one place the client gRPC server's options are built. */
export function serverOptions(receiveLimitBytes: number, limits: GrpcLimits = DEFAULT_GRPC_LIMITS): ChannelOptions {
  if (!(limits.maxConcurrentStreams >= 1 && limits.maxConcurrentStreams <= 4294967295)) {
    throw new Error(`max concurrent streams ${limits.maxConcurrentStreams} outside 1 .. 2^32-1`);
  }
  return {
    // channelz (grpc-js' introspection registry) has no reader here, and with it on every
    // call goes through a tracking handler: ~4 % of a member's CPU under load.
    'grpc.enable_channelz': 0,
    'grpc.max_receive_message_length': frameLimitBytes(receiveLimitBytes),
    'grpc.max_send_message_length': -1,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    'grpc.keepalive_time_ms': limits.keepaliveIntervalMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    // --grpc-keepalive-min-time is deliberately not enforced: grpc-js servers do not police
    // client pings at all (no ping strikes, no too_many_pings GOAWAY). etcd enforces it with
    // grpc-go's strike counting, which in practice never cuts etcdctl (pings every 2 s
    // while calls are active); not enforcing is never stricter than etcd. These options
    // only state that intent: pings are welcome, with or without calls in flight.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': Math.min(1000, limits.keepaliveMinTimeMs),
    'grpc.http2.max_ping_strikes': 0,
  };
}

/** Parses `http://host:port` (h2c) and `https://host:port` (TLS) client URLs. */
export function bindAddressOf(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`unsupported client URL scheme in ${url} (only http:// and https:// are served)`);
  // URL drops the scheme's default port (80/443), so an empty port means that one.
  const port = parsed.port !== '' ? parsed.port : parsed.protocol === 'https:' ? '443' : '80';
  return `${parsed.hostname}:${port}`;
}

/** Host (brackets stripped) and port to listen on for a client URL. */
export function listenTargetOf(url: string): { host: string; port: number } {
  const address = bindAddressOf(url);
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}

/** IP addresses for a listen host: literal IPs as they are, names (localhost) resolved to all. */
async function resolveListenAddresses(host: string): Promise<string[]> {
  if (net.isIP(host) !== 0) return [host];
  const found = await dns.promises.lookup(host, { all: true });
  if (found.length === 0) throw new Error(`cannot resolve listen host ${host}`);
  return found.map((entry) => entry.address);
}

/**
 * Whether `head` (the first bytes of a connection) can still be, or is, the HTTP/2 preface: a
 * connection starting with it is gRPC, anything else HTTP/1.1.
 */
function matchesPrefacePrefix(head: Buffer): boolean {
  const n = Math.min(head.length, CLIENT_PREFACE.length);
  return head.subarray(0, n).equals(CLIENT_PREFACE.subarray(0, n));
}

/** A connection that says nothing for this long is closed before it is classified. */
export const SNIFF_TIMEOUT_MS = 30_000;

export interface ClientServerOptions extends Pick<GrpcServicesOptions, 'watchMaxBufferedBytes'> {
  /** Counts RPCs and serves /metrics on the client port. */
  metrics?: MetricsRegistry;
  /** Serves https:// URLs with this certificate (http:// URLs stay plain text, as in etcd). */
  tls?: ServerTlsSettings;
  /** gRPC stream and keepalive limits (default: etcd's defaults). */
  limits?: GrpcLimits;
  /** Who may do what once auth is enabled (default: auth off). */
  authGate?: AuthGate;
}

/** ALPN: gRPC clients ask for h2, the gateway's HTTPS clients for http/1.1. */
const CLIENT_ALPN = ['h2', 'http/1.1'];

/**
 * The endpoint clients talk to on every client URL: etcd's v3 API over h2c (gRPC), and on
 * the same port HTTP/1.1 for the JSON gateway, /health, /version and /metrics (like etcd's cmux).
 */
export class ClientServer {
  private readonly server: Server;
  private readonly logger: Logger;
  private readonly boundPorts: number[] = [];
  private readonly openStreams = new OpenStreams();
  private readonly injector: ConnectionInjector;
  /** Unary calls answered off the HTTP/2 stream (direct-unary-call.ts); the rest go to grpc-js. */
  readonly directUnary: DirectUnaryRouter;
  private readonly listeners: net.Server[] = [];
  /** Accepted client sockets, cut by a forced close. */
  private readonly sockets = new TrackedSockets(() => this.closed);
  private readonly httpServer: http.Server;
  /** Gateway requests still being answered: a graceful close waits for them too. */
  private readonly httpRequests = new InFlightRequests();
  /** --listen-metrics-urls listeners: /metrics and /health only. */
  private readonly metricsServers: http.Server[] = [];
  private readonly metricsFront: http.RequestListener;
  private readonly terminator: TlsTerminator | undefined;
  private closed = false;
  /** Connections of our own HTTP/2 framing (h2/connection.ts). */
  private readonly ownConnections = new Set<Http2Connection>();
  /**
   * Client connections use our own HTTP/2 framing; LATCHKEY_CLIENT_HTTP2=node hands them to
   * grpc-js on node:http2 instead (the earlier path, kept as a fallback).
   */
  private readonly ownHttp2 = process.env['LATCHKEY_CLIENT_HTTP2'] !== 'node';
  private readonly limits: GrpcLimits;
  /** Resolves the wait of a graceful close for our own connections. */
  private ownConnectionsGone: (() => void) | undefined;

  constructor(member: MemberPort, logger: Logger, options: ClientServerOptions = {}) {
    this.logger = logger.child({ component: 'client-server' });
    const { metrics } = options;
    this.limits = options.limits ?? DEFAULT_GRPC_LIMITS;
    const report = metrics === undefined ? undefined : metrics.rpcHandled.bind(metrics);
    this.server = new Server({
      ...serverOptions(maxReceiveBytes(member), options.limits),
      ...(report === undefined ? {} : { interceptors: [handledCounterInterceptor(report)] }),
    });
    // Typed as the intersection so authGate passes through whether or not
    // GrpcServicesOptions declares it yet.
    const servicesOptions: GrpcServicesOptions & { authGate?: AuthGate } = {
      watchMaxBufferedBytes: options.watchMaxBufferedBytes,
      openStreams: this.openStreams,
      ...(metrics === undefined ? {} : { metrics }),
      ...(options.authGate === undefined ? {} : { authGate: options.authGate }),
    };
    const services = createGrpcServices(member, this.logger, servicesOptions);
    this.directUnary = new DirectUnaryRouter(frameLimitBytes(maxReceiveBytes(member)), report);
    for (const service of services) {
      const implementation = report === undefined ? service.implementation : countUnaryCalls(service.definition, service.implementation, report);
      this.server.addService(service.definition, implementation);
      this.directUnary.addService(service.definition, implementation);
    }
    this.injector = this.server.createConnectionInjector(ServerCredentials.createInsecure());
    if (!this.directUnary.install(this.server)) this.logger.warn('grpc-js internals changed: unary calls go through grpc-js');
    // JSON is bulkier than protobuf (base64 is 4/3): allow twice the gRPC receive limit.
    const gateway = new Gateway(services, this.logger, {
      maxBodyBytes: 2 * maxReceiveBytes(member),
      ...(report === undefined ? {} : { onHandled: report }),
    });
    this.httpServer = http.createServer(
      this.httpRequests.track(httpFront({ member, logger: this.logger, gateway, ...(metrics === undefined ? {} : { metrics }) })),
    );
    this.httpServer.on('clientError', (_err, socket) => socket.destroy());
    this.metricsFront = httpFront({ member, logger: this.logger, ...(metrics === undefined ? {} : { metrics }) });
    this.terminator = options.tls === undefined ? undefined : new TlsTerminator(options.tls, CLIENT_ALPN, this.logger, (socket) => this.route(socket));
  }

  /** Serves /metrics and /health on each URL (etcd's --listen-metrics-urls); returns the ports. */
  async listenMetrics(urls: string[]): Promise<number[]> {
    const ports: number[] = [];
    for (const url of urls) {
      const { host, port } = listenTargetOf(url);
      const server = http.createServer(this.metricsFront);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.metricsServers.push(server);
      ports.push((server.address() as net.AddressInfo).port);
      this.logger.info({ url }, 'serving metrics');
    }
    return ports;
  }

  /** The ports bound by listen(), in URL order (useful with port 0). */
  get ports(): number[] {
    return this.boundPorts.slice();
  }

  /**
   * Binds every client URL. We own the TCP listeners (rather than grpc-js' bindAsync) so each
   * connection goes through AuthorityFixupStream before grpc-js sees it: grpc-go clients dialled
   * with `http://host:port` send that as :authority, which nghttp2 would reject.
   */
  async listen(urls: string[]): Promise<void> {
    if (this.closed) throw new Error('ClientServer is closed');
    for (const url of urls) {
      const { host, port: requestedPort } = listenTargetOf(url);
      const secure = url.startsWith('https:');
      if (secure && this.terminator === undefined) throw new Error(`client URL ${url} is https:// but no TLS certificate is configured`);
      if (!secure && this.terminator !== undefined) this.logger.warn({ url }, 'scheme is HTTP while key and cert files are present; ignoring key and cert files');
      const addresses = await resolveListenAddresses(host);
      // Like grpc-js' bindAsync: port 0 picks a port on the first address that binds and
      // reuses it for the others; the URL is served if at least one address binds.
      let port = requestedPort;
      let bound = 0;
      let firstError: unknown;
      for (const address of addresses) {
        try {
          port = await this.listenOn(address, port, secure);
          bound++;
        } catch (error) {
          firstError ??= error;
          this.logger.warn({ err: error, url, address }, 'cannot listen on a client URL address');
        }
      }
      if (bound === 0) throw firstError;
      this.boundPorts.push(port);
      this.logger.info({ url, port }, 'serving client requests');
    }
  }

  private listenOn(address: string, port: number, secure: boolean): Promise<number> {
    const listener = net.createServer({ noDelay: true }, (socket) => this.accept(socket, secure));
    return new Promise<number>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: address, port }, () => {
        listener.off('error', reject);
        listener.on('error', (error) => this.logger.error({ err: error, address }, 'client listener failed'));
        this.listeners.push(listener);
        // close() ran while we were binding: it did not see this listener.
        if (this.closed) listener.close();
        resolve((listener.address() as net.AddressInfo).port);
      });
    });
  }

  private accept(socket: net.Socket, secure: boolean): void {
    if (!this.sockets.admit(socket)) return;
    if (secure) this.terminator!.accept(socket);
    else this.sniff(socket);
  }


  /**
   * A TLS connection after its handshake. ALPN says what it speaks: h2 goes to grpc-js as the
   * TLSSocket itself (grpc-js' getAuthContext() then sees the client certificate, and grpc-go
   * clients send a plain host:port :authority over TLS, so no fixup is needed), http/1.1 to
   * the gateway; a client that named no protocol is sniffed like a plain one.
   */
  private route(socket: tls.TLSSocket): void {
    if (!this.sockets.admit(socket)) return;
    if (socket.alpnProtocol === 'h2' && this.ownHttp2) this.serveHttp2(socket);
    else if (socket.alpnProtocol === 'h2') this.injector.injectConnection(socket);
    else if (socket.alpnProtocol === 'http/1.1') this.httpServer.emit('connection', socket);
    else this.sniff(socket);
  }

  /** Serves an HTTP/2 connection with our own framing (h2/connection.ts). */
  private serveHttp2(socket: net.Socket): void {
    const { maxConcurrentStreams, keepaliveIntervalMs, keepaliveTimeoutMs } = this.limits;
    const connection = new Http2Connection(socket, (stream, headers) => this.directUnary.serveFramed(stream, headers), this.logger, {
      maxConcurrentStreams,
      keepaliveIntervalMs,
      keepaliveTimeoutMs,
    });
    this.ownConnections.add(connection);
    socket.once('close', () => {
      this.ownConnections.delete(connection);
      if (this.ownConnections.size === 0) this.ownConnectionsGone?.();
    });
  }

  /**
   * Reads until the first bytes tell HTTP/2 (gRPC) from HTTP/1.1, puts them back with
   * unshift() so no byte is lost, and hands the socket to grpc-js or the HTTP server.
   */
  private sniff(socket: net.Socket | tls.TLSSocket): void {
    let head = Buffer.alloc(0);
    const silent = setTimeout(() => socket.destroy(), SNIFF_TIMEOUT_MS);
    socket.once('close', () => clearTimeout(silent));
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const couldBeHttp2 = matchesPrefacePrefix(head);
      if (couldBeHttp2 && head.length < CLIENT_PREFACE.length) return;
      // Our own framing reads any :authority; node:http2 needs some rewritten (authority-fixup.ts).
      const verdict = couldBeHttp2 && !this.ownHttp2 ? authorityFixupVerdict(head) : 'raw';
      if (verdict === 'wait') return;
      clearTimeout(silent);
      socket.off('data', onData);
      socket.pause();
      socket.unshift(head);
      if (this.closed) {
        socket.destroy();
        return;
      }
      if (couldBeHttp2 && this.ownHttp2) {
        this.serveHttp2(socket);
        return;
      }
      if (couldBeHttp2 && verdict === 'raw') {
        // No resume(): the HTTP/2 session reads the handle natively and takes the unshifted
        // head with socket.read() on the next tick; a flowing socket would drop it.
        this.injector.injectConnection(socket);
        return;
      }
      if (couldBeHttp2) {
        this.injector.injectConnection(new AuthorityFixupStream(socket));
      } else {
        this.httpServer.emit('connection', socket);
      }
      socket.resume();
    };
    socket.on('data', onData);
  }

  /**
   * Stops accepting calls, ends watch and keepalive streams (UNAVAILABLE "server stopped",
   * so clients move to another member), lets unary calls (gRPC and gateway) finish for a
   * while, then cuts whatever is left.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.listeners) listener.close();
    this.httpServer.closeIdleConnections();
    for (const server of this.metricsServers) {
      server.close();
      server.closeAllConnections();
    }
    const grpcDone = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.openStreams.endAll();
    const ownDone = new Promise<void>((resolve) => {
      this.ownConnectionsGone = resolve;
      if (this.ownConnections.size === 0) resolve();
    });
    for (const connection of this.ownConnections) connection.shutdown();
    const shutdown = Promise.all([grpcDone, ownDone, this.httpRequests.idle()]);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn('graceful shutdown timed out; forcing');
        this.server.forceShutdown();
        this.httpServer.closeAllConnections();
        this.sockets.destroyAll();
        for (const connection of this.ownConnections) connection.destroy();
        resolve();
      }, GRACEFUL_CLOSE_MS);
      void shutdown.then(() => {
        clearTimeout(timer);
        // Sessions are closed; a socket still open here has nothing left to say (end() still
        // flushes what the session wrote last, e.g. its GOAWAY).
        this.sockets.endAll();
        resolve();
      });
    });
  }
}
