import { clientCertCommonName } from '../tls/client-identity';
import type { CallSurface } from './request-context';

/** The credentials a call carries: the raw token and the verified client-certificate CN. */
export interface Credentials {
  token?: string;
  certCommonName?: string;
}

/**
 * The single place credentials are read off a gRPC (or gateway) call. The certificate CN is
 * read only when a check asks for it (reading it touches the TLS socket), so calls made
 * while auth is off never pay for it.
 */
export function credentialsOf(call: CallSurface): Credentials {
  // etcd reads `token`, then `authorization` (what its grpc-gateway forwards the
  // Authorization header as): AuthInfoFromCtx's TokenFieldNameGRPC / TokenFieldNameSwagger.
  const raw = call.metadata.get('token')[0] ?? call.metadata.get('authorization')[0];
  // An empty token counts as none, as the gate treats it.
  const token = raw === undefined || String(raw) === '' ? undefined : String(raw);
  let cn: string | undefined | null = null;
  return {
    ...(token === undefined ? {} : { token }),
    get certCommonName(): string | undefined {
      // Gateway calls never authenticate by certificate: etcd ignores the CN of requests its
      // gateway proxies (the "grpcgateway-accept" check in AuthInfoFromTLS).
      if (cn === null) cn = isGatewayCall(call) ? undefined : certCommonNameOf(call);
      return cn;
    },
  };
}

/** The marker the gateway puts on its calls (etcd's grpc-gateway sends Grpcgateway-Accept). */
export const GATEWAY_CALL_METADATA = 'grpcgateway-accept';

function isGatewayCall(call: CallSurface): boolean {
  return call.metadata.get(GATEWAY_CALL_METADATA).length > 0;
}

/**
 * The verified client-certificate CN of a gRPC call (the TLS layer reports one only for a
 * certificate it verified under --client-cert-auth). Gateway calls have no auth context.
 */
function certCommonNameOf(call: CallSurface): string | undefined {
  return clientCertCommonName(call as CallSurface & Parameters<typeof clientCertCommonName>[0]);
}
