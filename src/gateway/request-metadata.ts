import type { Metadata } from '@grpc/grpc-js';
import type * as http from 'node:http';
import { GATEWAY_CALL_METADATA } from '../api/auth-policy';

/** grpc-gateway v1's prefix for HTTP headers passed through as gRPC metadata. */
const METADATA_HEADER_PREFIX = 'grpc-metadata-';

/**
 * The gRPC metadata etcd's grpc-gateway (v1) builds from an HTTP request, as far as the
 * server looks at it: the Authorization header as `authorization` (the raw token: etcd's
 * auth reads it when no `token` is sent), `Grpc-Metadata-<Name>` headers as `<name>`, and
 * the gateway marker (so a certificate CN is never taken as the user). Any other header,
 * `token:` included, is dropped, as grpc-gateway drops it.
 */
export function gatewayMetadata(metadata: Metadata, req: http.IncomingMessage): void {
  metadata.set(GATEWAY_CALL_METADATA, String(req.headers.accept ?? '*/*'));
  const authorization = req.headers.authorization;
  if (authorization !== undefined && authorization !== '') metadata.set('authorization', authorization);
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith(METADATA_HEADER_PREFIX) || value === undefined) continue;
    const key = name.slice(METADATA_HEADER_PREFIX.length);
    // Binary (-bin) and reserved (grpc-) keys cannot be set as text metadata.
    if (key === '' || key.endsWith('-bin') || key.startsWith('grpc-')) continue;
    for (const one of Array.isArray(value) ? value : [value]) metadata.add(key, one);
  }
}
