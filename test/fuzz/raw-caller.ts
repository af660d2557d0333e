import * as grpc from '@grpc/grpc-js';
import type { FuzzMethod } from './proto-arbitrary';

/**
 * Sends already-encoded request bytes to any method (passthrough serializers) and reports how
 * the call ended: a gRPC status code and, for OK unary calls, the response bytes. Streams are
 * half-closed after the requests and cancelled at their deadline (long-lived by nature).
 */

export interface CallOutcome {
  code: grpc.status;
  details: string;
  /** Response messages received (unary: at most one). */
  responses: Buffer[];
  elapsedMs: number;
}

const passthrough = (bytes: Buffer): Buffer => bytes;

export class RawCaller {
  private readonly client: grpc.Client;

  constructor(endpoint: string) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    });
  }

  /** Calls `method` with `requests` (one for unary requests); never rejects. */
  call(method: FuzzMethod, requests: Buffer[], deadlineMs: number): Promise<CallOutcome> {
    if (requests.length === 0) throw new Error('RawCaller.call: no request');
    const startedAt = Date.now();
    const deadline = new Date(startedAt + deadlineMs);
    const responses: Buffer[] = [];
    return new Promise<CallOutcome>((resolve) => {
      const finish = (code: grpc.status, details: string): void => resolve({ code, details, responses, elapsedMs: Date.now() - startedAt });
      const onStatus = (status: grpc.StatusObject): void => finish(status.code, status.details);
      if (!method.requestStream && !method.responseStream) {
        this.client.makeUnaryRequest(method.path, passthrough, passthrough, requests[0], new grpc.Metadata(), { deadline }, (error, response) => {
          if (error) return finish(error.code, error.details);
          if (response !== undefined) responses.push(response);
          finish(grpc.status.OK, '');
        });
        return;
      }
      let stream: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>;
      if (!method.requestStream) {
        stream = this.client.makeServerStreamRequest(method.path, passthrough, passthrough, requests[0], new grpc.Metadata(), { deadline });
      } else {
        const duplex = this.client.makeBidiStreamRequest(method.path, passthrough, passthrough, new grpc.Metadata(), { deadline });
        for (const request of requests) duplex.write(request);
        duplex.end();
        stream = duplex;
      }
      stream.on('data', (chunk: Buffer) => {
        if (responses.length < 1_000) responses.push(chunk);
      });
      stream.on('error', () => undefined); // the status event carries the outcome
      stream.on('status', onStatus);
    });
  }

  close(): void {
    this.client.close();
  }
}
