import { GrpcCode } from '../errors';

/** The gRPC status grpc-go answers an unknown path with: code and message text. */
export interface UnknownPathStatus {
  code: number;
  details: string;
}

/**
 * grpc-go's answer to a request path the server has no handler for, which is what etcd's
 * clients see (grpc-go's Server.handleStream): the path, less one leading '/', splits at its
 * last '/' into service and method; a path without one is "malformed" (RESOURCE_EXHAUSTED, the
 * path quoted as Go's %q does); an unregistered service is "unknown service S"; a known
 * service without that method is "unknown method M for service S" (both UNIMPLEMENTED).
 */
export function unknownMethodStatus(path: string, knownServices: ReadonlySet<string>): UnknownPathStatus {
  const name = path.startsWith('/') ? path.slice(1) : path;
  const slash = name.lastIndexOf('/');
  if (slash === -1) return { code: GrpcCode.RESOURCE_EXHAUSTED, details: `malformed method name: ${goQuote(path)}` };
  const service = name.slice(0, slash);
  const method = name.slice(slash + 1);
  if (!knownServices.has(service)) return { code: GrpcCode.UNIMPLEMENTED, details: `unknown service ${service}` };
  return { code: GrpcCode.UNIMPLEMENTED, details: `unknown method ${method} for service ${service}` };
}

/** Go's %q for the characters a path can hold: double quotes, with '"' and '\' escaped. */
function goQuote(text: string): string {
  return `"${text.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}
