/**
 * Peer URLs (`http://host:port`, as in --listen-peer-urls and --initial-advertise-peer-urls)
 * to gRPC addresses. Peer traffic is h2c only: TLS between members is not supported yet.
 */
export function peerAddressOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid peer URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:') throw new Error(`unsupported peer URL scheme in ${url} (only http:// is served)`);
  // URL drops the scheme's default port (80), so an empty port means ":80" or none at all.
  const port = parsed.port === '' ? '80' : parsed.port;
  return `${parsed.hostname}:${port}`;
}
