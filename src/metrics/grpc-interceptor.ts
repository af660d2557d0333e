import {
  ResponderBuilder,
  ServerInterceptingCall,
  type handleUnaryCall,
  type ServerInterceptor,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

export type RpcHandledReporter = (service: string, method: string, kind: string, code: number) => void;

export function callKind(requestStream: boolean, responseStream: boolean): string {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

/** grpc-js' UNKNOWN: what a callback error without a code is answered with. */
const UNKNOWN = 2;

/**
 * Counts every streaming gRPC call when its status goes out: the one place all answers and
 * errors (our handlers' and grpc-js' own) pass through. Unary calls pass untouched (an
 * intercepting layer costs ~14 µs per call, benchmarks/grpc-overhead.ts): countUnaryCalls
 * counts them when the handler answers, as etcd's go-grpc-prometheus does.
 */
export function handledCounterInterceptor(report: RpcHandledReporter): ServerInterceptor {
  // One responder per method, built on first use: the regex and the builder chain stay off
  // the per-call path (bounded by the number of methods served).
  const responders = new Map<string, ReturnType<ResponderBuilder['build']>>();
  return (descriptor, call) => {
    // grpc-js chains whatever an interceptor returns through its interface only, so handing
    // back the next call adds no layer (its type names the class, not the interface).
    if (!descriptor.requestStream && !descriptor.responseStream) return call as ServerInterceptingCall;
    let responder = responders.get(descriptor.path);
    if (responder === undefined) {
      const [, service = '', method = ''] = /^\/([^/]*)\/(.*)$/.exec(descriptor.path) ?? [];
      const kind = callKind(descriptor.requestStream, descriptor.responseStream);
      responder = new ResponderBuilder()
        .withSendStatus((status, next) => {
          report(service, method, kind, status.code ?? 0);
          next(status);
        })
        .build();
      responders.set(descriptor.path, responder);
    }
    return new ServerInterceptingCall(call, responder);
  };
}

/** `implementation` with each unary handler reporting its answer's code to `report`. */
export function countUnaryCalls(
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
  report: RpcHandledReporter,
): UntypedServiceImplementation {
  const counted: UntypedServiceImplementation = { ...implementation };
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name];
    if (handler === undefined || method.requestStream || method.responseStream) continue;
    const unary = handler as handleUnaryCall<unknown, unknown>;
    const [, service = '', methodName = name] = /^\/([^/]*)\/(.*)$/.exec(method.path) ?? [];
    counted[name] = ((call, callback) =>
      unary(call, (error, value, trailer, flags) => {
        report(service, methodName, 'unary', error === null || error === undefined ? 0 : (error.code ?? UNKNOWN));
        callback(error, value, trailer, flags);
      })) as handleUnaryCall<unknown, unknown>;
  }
  return counted;
}
