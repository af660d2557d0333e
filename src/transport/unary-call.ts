import { status as GrpcStatus, type Client, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { EMPTY_MESSAGE } from './codec/peer-codec';
import { passBuffer } from './peer-service';

/** A unary peer call that failed, with its gRPC code (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED...). */
export class PeerCallError extends Error {
  constructor(
    message: string,
    readonly code: GrpcStatus,
  ) {
    super(message);
    this.name = 'PeerCallError';
  }
}

/** Unary calls in flight, so close() can cancel them. */
export type OpenCalls = Set<{ cancel(): void }>;

/**
 * One unary call with a deadline, cancelled when `signal` aborts. Resolves with the raw
 * response bytes; rejects with PeerCallError.
 */
export function unaryCall(
  client: Client,
  path: string,
  request: Buffer,
  metadata: Metadata,
  timeoutMs: number,
  signal: AbortSignal,
  openCalls: OpenCalls,
): Promise<Buffer> {
  if (signal.aborted) return Promise.reject(new PeerCallError('peer call aborted', GrpcStatus.CANCELLED));
  return new Promise<Buffer>((resolve, reject) => {
    const onDone = (err: ServiceError | null, value?: Buffer): void => {
      openCalls.delete(call);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(new PeerCallError(err.details || err.message, err.code));
      else resolve(value ?? EMPTY_MESSAGE);
    };
    const call = client.makeUnaryRequest(path, passBuffer, passBuffer, request, metadata, { deadline: Date.now() + timeoutMs }, onDone);
    const onAbort = (): void => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    openCalls.add(call);
  });
}
