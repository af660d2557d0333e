import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type * as protobuf from 'protobufjs';
import { EtcdError, GrpcCode } from '../errors';
import { messageType, serviceType } from './codec/proto-root';
import type { Wire, WireOut } from './codec/wire-scalars';

/**
 * What a request deserializer yields when the bytes cannot become a request. grpc-js would
 * answer a throwing deserializer with its own INTERNAL text; returning this instead lets the
 * handler answer with etcd's (grpc-go's) status while the server keeps serving.
 */
export class DecodeFailure {
  constructor(readonly error: EtcdError) {}
}

export type DecodedRequest = Wire | DecodeFailure;

/** Where the deserializer notes how many bytes a decoded request had on the wire. */
export const WIRE_BYTES = Symbol('wireBytes');

/** The encoded size of a decoded request (0 when unknown). */
export function wireBytesOf(request: Wire): number {
  const size: unknown = request?.[WIRE_BYTES];
  return typeof size === 'number' ? size : 0;
}

export interface MethodCodecOptions {
  /** Largest request message accepted, in bytes (etcd: max-request-bytes + 512 KiB). */
  maxReceiveBytes: number;
}

/** grpc-go's text for an oversized message, which etcd clients see. */
export function messageTooLarge(sizeBytes: number, maxReceiveBytes: number): EtcdError {
  return new EtcdError(
    GrpcCode.RESOURCE_EXHAUSTED,
    `grpc: received message larger than max (${sizeBytes} vs. ${maxReceiveBytes})`,
  );
}

function requestDeserializer(type: protobuf.Type, options: MethodCodecOptions): (bytes: Buffer) => DecodedRequest {
  return (bytes: Buffer): DecodedRequest => {
    if (bytes.length > options.maxReceiveBytes) return new DecodeFailure(messageTooLarge(bytes.length, options.maxReceiveBytes));
    try {
      const decoded: Wire = type.decode(bytes);
      decoded[WIRE_BYTES] = bytes.length;
      return decoded;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return new DecodeFailure(new EtcdError(GrpcCode.INTERNAL, `grpc: error unmarshalling request: ${reason}`));
    }
  };
}

/** Already-encoded bytes pass through, so one encoding can be sent to many streams. */
function responseSerializer(type: protobuf.Type): (message: WireOut | Buffer) => Buffer {
  return (message: WireOut | Buffer): Buffer => {
    if (Buffer.isBuffer(message)) return message;
    const bytes = type.encode(message).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function notUsedOnServer(): never {
  throw new Error('client-side codec is not used by the server');
}

/** A grpc-js service definition for a service of our protos, with our codecs. */
export function serviceDefinition(fullServiceName: string, options: MethodCodecOptions): ServiceDefinition {
  const service = serviceType(fullServiceName);
  const definition: Record<string, MethodDefinition<DecodedRequest, WireOut | Buffer>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const requestType = method.resolvedRequestType ?? messageType(method.requestType);
    const responseType = method.resolvedResponseType ?? messageType(method.responseType);
    definition[method.name] = {
      path: `/${fullServiceName}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: notUsedOnServer,
      requestDeserialize: requestDeserializer(requestType, options),
      responseSerialize: responseSerializer(responseType),
      responseDeserialize: notUsedOnServer,
      originalName: method.name,
    };
  }
  return definition as ServiceDefinition;
}

/**
 * A service definition for methods our protos do not declare (3.5-only ones clients may
 * call): requests are not decoded at all, the handler answers UNIMPLEMENTED.
 */
export function rawServiceDefinition(fullServiceName: string, methods: string[], options: MethodCodecOptions): ServiceDefinition {
  const definition: Record<string, MethodDefinition<DecodedRequest, Buffer>> = {};
  for (const name of methods) {
    definition[name] = {
      path: `/${fullServiceName}/${name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: notUsedOnServer,
      requestDeserialize: (bytes: Buffer): DecodedRequest =>
        bytes.length > options.maxReceiveBytes ? new DecodeFailure(messageTooLarge(bytes.length, options.maxReceiveBytes)) : bytes,
      responseSerialize: (message: Buffer): Buffer => message,
      responseDeserialize: notUsedOnServer,
      originalName: name,
    };
  }
  return definition as ServiceDefinition;
}
