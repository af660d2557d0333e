import * as http from 'node:http';
import { GrpcCode } from '../errors';

/** grpc-gateway v1's HTTPStatusFromCode. */
export function httpStatusFromGrpcCode(code: number): number {
  switch (code) {
    case GrpcCode.OK: return 200;
    case GrpcCode.CANCELLED: return 408;
    case GrpcCode.UNKNOWN: return 500;
    case GrpcCode.INVALID_ARGUMENT: return 400;
    case GrpcCode.DEADLINE_EXCEEDED: return 504;
    case GrpcCode.NOT_FOUND: return 404;
    case GrpcCode.ALREADY_EXISTS: return 409;
    case GrpcCode.PERMISSION_DENIED: return 403;
    case GrpcCode.UNAUTHENTICATED: return 401;
    case GrpcCode.RESOURCE_EXHAUSTED: return 429;
    case GrpcCode.FAILED_PRECONDITION: return 412;
    case GrpcCode.ABORTED: return 409;
    case GrpcCode.OUT_OF_RANGE: return 400;
    case GrpcCode.UNIMPLEMENTED: return 501;
    case GrpcCode.INTERNAL: return 500;
    case GrpcCode.UNAVAILABLE: return 503;
    case GrpcCode.DATA_LOSS: return 500;
    default: return 500;
  }
}

/** The body of a unary error, as etcd's gateway writes it. */
export function unaryErrorBody(code: number, message: string): string {
  return JSON.stringify({ error: message, message, code });
}

/** A stream's error line (grpc-gateway v1 streamChunk with an error). */
export function streamErrorBody(code: number, message: string): string {
  const httpCode = httpStatusFromGrpcCode(code);
  return JSON.stringify({ error: { grpc_code: code, http_code: httpCode, message, http_status: http.STATUS_CODES[httpCode] ?? '' } });
}
