import { Metadata } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { DecodedRequest } from '../api/method-codec';

/** What a gateway call does with the handler's output. */
export interface CallSink {
  /** One response message (a WireOut or already-encoded bytes); false asks the handler to wait for 'drain'. */
  message(message: unknown, written?: () => void): boolean;
  /** The handler ended the call normally. */
  end(): void;
  /** The handler failed the call (a grpc-js ServiceError-like object). */
  error(err: unknown): void;
}

/**
 * Stands in for a grpc-js server call so the gateway runs the very handlers the gRPC port
 * runs: the same events ('data', 'end', 'cancelled', 'drain', 'error') and the same write/end.
 */
export class GatewayCall extends EventEmitter {
  readonly metadata = new Metadata();
  cancelled = false;
  request: DecodedRequest | undefined;
  private finished = false;

  constructor(private readonly sink: CallSink) {
    super();
    this.on('error', (err: unknown) => {
      if (this.finished) return;
      this.finished = true;
      this.sink.error(err);
    });
  }

  write(message: unknown, callback?: () => void): boolean {
    if (this.finished) return true;
    return this.sink.message(message, callback);
  }

  end(): void {
    if (this.finished) return;
    this.finished = true;
    this.sink.end();
  }

  /** The HTTP client went away: like a cancelled gRPC call. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.finished = true;
    this.emit('cancelled');
    this.emit('close');
  }

  getPeer(): string {
    return 'gateway';
  }

  getDeadline(): number {
    return Infinity;
  }

  sendMetadata(): void {}
}
