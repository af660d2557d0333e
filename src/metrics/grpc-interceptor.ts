import { ResponderBuilder, ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';

export type RpcHandledReporter = (service: string, method: string, kind: string, code: number) => void;

function callKind(requestStream: boolean, responseStream: boolean): string {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

/**
 * Counts every gRPC call when its status goes out: the one place all answers and errors
 * (our handlers' and grpc-js' own) pass through.
 */
export function handledCounterInterceptor(report: RpcHandledReporter): ServerInterceptor {
  // One responder per method, built on first use: the regex and the builder chain stay off
  // the per-call path (bounded by the number of methods served).
  const responders = new Map<string, ReturnType<ResponderBuilder['build']>>();
  return (descriptor, call) => {
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
