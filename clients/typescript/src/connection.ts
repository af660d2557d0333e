import * as grpc from '@grpc/grpc-js';
import { AbortedError, ClientClosedError, EtcdError, isEndpointFailure, isRetryable, toEtcdError } from './errors';
import { method, ServiceName, Wire } from './proto';

/** How the client reaches the cluster. */
export interface ConnectionOptions {
  /** "host:port" or "http://host:port"; at least one. Calls fail over between them in order. */
  endpoints: string[];
  /** Deadline of one unary attempt (default 10 s). */
  callTimeoutMs?: number;
  /** Retries of one call after the first attempt (default 6). */
  maxRetries?: number;
  /** First retry delay; doubles per retry up to retryMaxDelayMs, with jitter (default 50 ms). */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Default: insecure (plain TCP), like http:// endpoints. */
  credentials?: grpc.ChannelCredentials;
}

export interface UnaryOptions {
  /** Safe to send twice (reads): retried on any UNAVAILABLE. Mutations only when unsent. */
  idempotent: boolean;
  signal?: AbortSignal;
}

const DEFAULT_CALL_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RETRIES = 6;
const DEFAULT_RETRY_BASE_DELAY_MS = 50;
const DEFAULT_RETRY_MAX_DELAY_MS = 2_000;
const MAX_RETRIES_LIMIT = 100;
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Strips a scheme: grpc-js wants host:port. */
function toAddress(endpoint: string): string {
  const match = /^(?:https?|unix):\/\/(.+?)\/?$/.exec(endpoint.trim());
  return match !== null ? match[1]! : endpoint.trim();
}

/**
 * One gRPC channel per endpoint and the failover/retry policy. `current` is the endpoint
 * new calls and streams go to; it moves to the next endpoint whenever a call there fails
 * with UNAVAILABLE.
 */
export class Connection {
  private readonly channels: grpc.Client[];
  private current = 0;
  private closed = false;
  readonly callTimeoutMs: number;
  readonly maxRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;

  constructor(options: ConnectionOptions) {
    if (options.endpoints.length === 0) throw new Error('Client: at least one endpoint is required');
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.maxRetries = Math.min(options.maxRetries ?? DEFAULT_MAX_RETRIES, MAX_RETRIES_LIMIT);
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
    const credentials = options.credentials ?? grpc.credentials.createInsecure();
    this.channels = options.endpoints.map(
      (endpoint) =>
        new grpc.Client(toAddress(endpoint), credentials, {
          // grpc-js defaults back off up to 120 s between reconnects; a restarted member
          // should be found again within about a second.
          'grpc.initial_reconnect_backoff_ms': 100,
          'grpc.max_reconnect_backoff_ms': 1_000,
          'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
          'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
          // channelz is grpc-js' introspection registry: nothing here reads it, and its
          // per-call tracing costs CPU on every request.
          'grpc.enable_channelz': 0,
        }),
    );
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Exponential backoff with jitter: a delay in [d/2, d], d = base·2^attempt capped at max. */
  backoffDelayMs(attempt: number): number {
    const ceiling = Math.min(this.retryMaxDelayMs, this.retryBaseDelayMs * 2 ** Math.min(attempt, 20));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** A unary call with failover and bounded retries on etcd's retryable errors. */
  async unary(service: ServiceName, name: string, request: Wire, options: UnaryOptions): Promise<Wire> {
    const definition = method(service, name);
    for (let attempt = 0; ; attempt++) {
      this.assertOpen();
      const endpointIndex = this.current;
      try {
        return await this.unaryOnce(endpointIndex, definition, request, options.signal);
      } catch (caught) {
        const error = toEtcdError(caught);
        if (options.signal?.aborted) throw new AbortedError(options.signal.reason);
        if (isEndpointFailure(error)) this.failedOver(endpointIndex);
        if (!isRetryable(error, options.idempotent) || attempt >= this.maxRetries) throw error;
        await sleep(this.backoffDelayMs(attempt), options.signal);
      }
    }
  }

  private unaryOnce(endpointIndex: number, definition: ReturnType<typeof method>, request: Wire, signal?: AbortSignal): Promise<Wire> {
    return new Promise<Wire>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortedError(signal.reason));
      const call = this.channels[endpointIndex]!.makeUnaryRequest<Wire, Wire>(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + this.callTimeoutMs },
        (error, response) => {
          signal?.removeEventListener('abort', onAbort);
          if (error !== null) reject(error);
          else if (response === undefined) reject(new EtcdError(grpc.status.INTERNAL, 'empty response'));
          else resolve(response);
        },
      );
      const onAbort = (): void => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Opens a bidi stream on the current endpoint, with `hasleader: true` as etcd's clients
   * send for watch and keepalive streams (the server refuses them while it has no leader).
   * Returns the endpoint index so a failed stream can report it.
   */
  openStream(service: ServiceName, name: string): { stream: grpc.ClientDuplexStream<Wire, Wire>; endpointIndex: number } {
    this.assertOpen();
    const definition = method(service, name);
    const metadata = new grpc.Metadata();
    metadata.set('hasleader', 'true');
    const endpointIndex = this.current;
    const stream = this.channels[endpointIndex]!.makeBidiStreamRequest<Wire, Wire>(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      metadata,
      {},
    );
    return { stream, endpointIndex };
  }

  /** A stream or call on `endpointIndex` found it unreachable: move new work to the next one. */
  failedOver(endpointIndex: number): void {
    if (this.current === endpointIndex) this.current = (endpointIndex + 1) % this.channels.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const channel of this.channels) channel.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError();
  }
}

/** Resolves after `ms`, or rejects with AbortedError when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError(signal.reason));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError(signal!.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
