/**
 * Peer URLs (`http://host:port` or `https://host:port`, as in --listen-peer-urls and
 * --initial-advertise-peer-urls) to gRPC addresses. http:// is h2c; https:// is TLS
 * (credentials from src/tls/peer-tls.ts).
 */
export function peerAddressOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid peer URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`unsupported peer URL scheme in ${url} (only http:// and https:// are served)`);
  // URL drops the scheme's default port (80/443), so an empty port means that one.
  const port = parsed.port !== '' ? parsed.port : parsed.protocol === 'https:' ? '443' : '80';
  return `${parsed.hostname}:${port}`;
}
