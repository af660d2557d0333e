import type * as http from 'node:http';
import * as tls from 'node:tls';

/**
 * The CN of a client certificate the TLS layer verified (--client-cert-auth), which etcd
 * uses as the user name when auth is on and the request carries no token.
 */

/** CN of a verified peer certificate on a TLS socket; undefined when none was verified. */
export function peerCommonName(socket: unknown): string | undefined {
  if (!(socket instanceof tls.TLSSocket) || !socket.authorized) return undefined;
  return commonNameOf(socket.getPeerCertificate().subject?.CN);
}

/**
 * For a gRPC call. TLS connections reach grpc-js as the TLSSocket itself (client-server.ts
 * injects it unwrapped), so grpc-js' own getAuthContext() sees the verified certificate.
 */
export function clientCertCommonName(call: { getAuthContext?: () => { sslPeerCertificate?: { subject?: { CN?: string | string[] } } } }): string | undefined {
  return commonNameOf(call.getAuthContext?.()?.sslPeerCertificate?.subject?.CN);
}

/** Node gives a subject with several CNs as an array; Go's CommonName is the last one. */
function commonNameOf(cn: string | string[] | undefined): string | undefined {
  const value = Array.isArray(cn) ? cn[cn.length - 1] : cn;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** For a gateway (HTTP/1.1) request. */
export function httpClientCertCommonName(req: http.IncomingMessage): string | undefined {
  return peerCommonName(req.socket);
}
