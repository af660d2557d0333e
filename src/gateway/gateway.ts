import type { MethodDefinition, ServiceError } from '@grpc/grpc-js';
import type * as http from 'node:http';
import type * as protobuf from 'protobufjs';
import type { GrpcService } from '../api/grpc-services';
import { serviceType } from '../api/codec/proto-root';
import { errorToStatus } from '../api/error-status';
import type { DecodedRequest } from '../api/method-codec';
import { EtcdError, GrpcCode } from '../errors';
import type { Logger } from '../log';
import { gatewayMetadata } from './request-metadata';
import { GatewayCall, type CallSink } from './gateway-call';
import { JsonValueSplitter, parseGoJson } from './go-json';
import { httpStatusFromGrpcCode, streamErrorBody, unaryErrorBody } from './http-status';
import { requestBytesFromJson, responseJsonFromBytes } from './json-codec';
import { routeFor, type GatewayRoute } from './routes';

/** Reports each finished call (for grpc_server_handled_total). */
export type HandledReporter = (service: string, method: string, kind: CallKind, code: number) => void;
export type CallKind = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

export interface GatewayOptions {
  /** Largest request body accepted (JSON is larger than the protobuf it becomes). */
  maxBodyBytes: number;
  onHandled?: HandledReporter;
}

interface BoundMethod {
  route: GatewayRoute;
  definition: MethodDefinition<DecodedRequest, unknown>;
  handler: (...args: unknown[]) => void;
  requestType: protobuf.Type;
  responseType: protobuf.Type;
  kind: CallKind;
}

type Code = number;

/**
 * etcd's grpc-gateway: POST /v3/... with a JSON body runs the same gRPC handler the client
 * port serves (so validation, limits and errors are the gRPC path's), and answers in
 * grpc-gateway's JSON. Streams answer with one `{"result":…}` line per message.
 */
export class Gateway {
  private readonly methods = new Map<string, BoundMethod>();
  private readonly logger: Logger;

  constructor(services: GrpcService[], logger: Logger, private readonly options: GatewayOptions) {
    this.logger = logger.child({ component: 'gateway' });
    for (const service of services) {
      const proto = lookupService(service.name);
      if (proto === undefined) continue;
      for (const [method, definition] of Object.entries(service.definition)) {
        const handler = service.implementation[method];
        const protoMethod = proto.methods[method];
        if (handler === undefined || protoMethod === undefined) continue;
        protoMethod.resolve();
        const key = `${service.name}/${method}`;
        const def = definition as MethodDefinition<DecodedRequest, unknown>;
        this.methods.set(key, {
          route: { service: service.name, method },
          definition: def,
          handler: handler as (...args: unknown[]) => void,
          requestType: protoMethod.resolvedRequestType!,
          responseType: protoMethod.resolvedResponseType!,
          kind: def.requestStream ? (def.responseStream ? 'bidi_stream' : 'client_stream') : def.responseStream ? 'server_stream' : 'unary',
        });
      }
    }
  }

  /** Whether `path` (already rewritten to /v3/) names a gateway method. */
  has(path: string): boolean {
    const route = routeFor(path);
    return route !== undefined && this.methods.has(`${route.service}/${route.method}`);
  }

  /** Serves a POST to a path for which has() is true. */
  serve(path: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const route = routeFor(path)!;
    const bound = this.methods.get(`${route.service}/${route.method}`)!;
    if (bound.kind === 'bidi_stream' || bound.kind === 'client_stream') this.serveStreamingRequest(bound, req, res);
    else void this.serveSingleRequest(bound, req, res);
  }

  private async serveSingleRequest(bound: BoundMethod, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let request: DecodedRequest;
    try {
      const body = await readBody(req, this.options.maxBodyBytes);
      request = this.decode(bound, body.trim().length === 0 ? {} : parseGoJson(body));
    } catch (err) {
      this.fail(bound, res, err);
      return;
    }
    if (bound.kind === 'unary') {
      const call = new GatewayCall(this.noStreamSink());
      gatewayMetadata(call.metadata, req);
      call.request = request;
      res.once('close', () => {
        if (!res.writableFinished) call.cancel();
      });
      bound.handler(call, (err: Partial<ServiceError> | null, response?: unknown) => {
        if (err !== null && err !== undefined) {
          this.fail(bound, res, err);
          return;
        }
        let json: string;
        try {
          json = JSON.stringify(this.toJson(bound, response));
        } catch (encodeErr) {
          this.fail(bound, res, encodeErr);
          return;
        }
        this.report(bound, GrpcCode.OK);
        writeJson(res, 200, json);
      });
      return;
    }
    const call = new GatewayCall(this.streamSink(bound, res));
    gatewayMetadata(call.metadata, req);
    call.request = request;
    res.once('close', () => {
      if (!res.writableFinished) call.cancel();
    });
    res.on('drain', () => call.emit('drain'));
    bound.handler(call);
  }

  private serveStreamingRequest(bound: BoundMethod, req: http.IncomingMessage, res: http.ServerResponse): void {
    const call = new GatewayCall(this.streamSink(bound, res));
    gatewayMetadata(call.metadata, req);
    res.once('close', () => {
      if (!res.writableFinished) call.cancel();
    });
    res.on('drain', () => call.emit('drain'));
    bound.handler(call);
    const splitter = new JsonValueSplitter(this.options.maxBodyBytes);
    let ended = false;
    const endRequests = (): void => {
      if (ended) return;
      ended = true;
      call.emit('end');
    };
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (ended) return;
      try {
        for (const text of splitter.push(chunk)) {
          if (call.cancelled) return;
          call.emit('data', this.decode(bound, parseGoJson(text)));
        }
      } catch (err) {
        // grpc-gateway stops sending on a bad request value (CloseSend) and keeps the stream.
        this.logger.debug({ err }, 'bad streaming request body');
        endRequests();
      }
    });
    req.on('end', endRequests);
  }

  private decode(bound: BoundMethod, json: unknown): DecodedRequest {
    return bound.definition.requestDeserialize(requestBytesFromJson(bound.requestType, json));
  }

  private toJson(bound: BoundMethod, message: unknown): Record<string, unknown> {
    const bytes = bound.definition.responseSerialize(message);
    return responseJsonFromBytes(bound.responseType, bytes);
  }

  private noStreamSink(): CallSink {
    return {
      message: () => {
        throw new Error('unary handler wrote a stream message');
      },
      end: () => undefined,
      error: () => undefined,
    };
  }

  /** Writes each message as a `{"result":…}` line; an error becomes an `{"error":…}` line. */
  private streamSink(bound: BoundMethod, res: http.ServerResponse): CallSink {
    const start = (status: number): void => {
      if (res.headersSent) return;
      res.writeHead(status, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    };
    return {
      message: (message, written) => {
        start(200);
        const line = `${JSON.stringify({ result: this.toJson(bound, message) })}\n`;
        return res.write(line, () => written?.());
      },
      end: () => {
        this.report(bound, GrpcCode.OK);
        start(200);
        res.end();
      },
      error: (err) => {
        const status = this.status(bound, err);
        this.report(bound, status.code);
        start(httpStatusFromGrpcCode(status.code));
        res.end(`${streamErrorBody(status.code, status.details)}\n`);
      },
    };
  }

  private status(bound: BoundMethod, err: unknown): { code: Code; details: string } {
    const serviceError = err as Partial<ServiceError> | undefined;
    if (serviceError !== undefined && typeof serviceError.code === 'number' && !(err instanceof EtcdError)) {
      return { code: serviceError.code, details: serviceError.details ?? serviceError.message ?? '' };
    }
    return errorToStatus(err, this.logger, `${bound.route.service}/${bound.route.method}`);
  }

  private fail(bound: BoundMethod, res: http.ServerResponse, err: unknown): void {
    const status = this.status(bound, err);
    this.report(bound, status.code);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.setHeader('Grpc-Trailer-Content-Type', 'application/grpc');
    writeJson(res, httpStatusFromGrpcCode(status.code), unaryErrorBody(status.code, status.details));
  }

  private report(bound: BoundMethod, code: Code): void {
    this.options.onHandled?.(bound.route.service, bound.route.method, bound.kind, code);
  }
}

function lookupService(name: string): protobuf.Service | undefined {
  try {
    return serviceType(name);
  } catch {
    return undefined;
  }
}

function writeJson(res: http.ServerResponse, status: number, json: string): void {
  if (res.writableEnded) return;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

/** Reads a request body as text, refusing more than `maxBytes`. */
export function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new EtcdError(GrpcCode.RESOURCE_EXHAUSTED, `grpc: received message larger than max (${size} vs. ${maxBytes})`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
