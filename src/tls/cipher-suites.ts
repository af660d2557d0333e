import type * as tls from 'node:tls';

/**
 * etcd's --cipher-suites names (Go's crypto/tls constants, as etcd 3.4's tlsutil lists them)
 * mapped to the OpenSSL names Node's `ciphers` option takes. Go also accepts the
 * CHACHA20 names with a "_SHA256" suffix; both spellings are listed.
 */
const GO_TO_OPENSSL: ReadonlyMap<string, string> = new Map([
  ['TLS_RSA_WITH_RC4_128_SHA', 'RC4-SHA'],
  ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'DES-CBC3-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256'],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'ECDHE-ECDSA-RC4-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'ECDHE-RSA-RC4-SHA'],
  ['TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', 'ECDHE-RSA-DES-CBC3-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
]);

/**
 * TLS 1.3 suites, kept whatever --cipher-suites says: Go (hence etcd) ignores the configured
 * list for TLS 1.3, so the list restricts TLS 1.2 handshakes only. Node takes 1.3 suites in
 * the same `ciphers` string and would disable them all if none were named.
 */
const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

/** Names in `names` that etcd would reject ("unexpected TLS cipher suite"). */
export function unknownCipherSuites(names: readonly string[]): string[] {
  return names.filter((name) => !GO_TO_OPENSSL.has(name));
}

/**
 * The secure-context options for --cipher-suites: nothing when the list is empty (Node's
 * defaults), else the TLS 1.2 suites in the given order plus every TLS 1.3 suite.
 * Throws on an unknown name (validateTls reports those first as a ConfigError).
 */
export function cipherOptions(names: readonly string[]): Pick<tls.SecureContextOptions, 'ciphers' | 'honorCipherOrder'> {
  if (names.length === 0) return {};
  const openssl = names.map((name) => {
    const mapped = GO_TO_OPENSSL.get(name);
    if (mapped === undefined) throw new Error(`unexpected TLS cipher suite "${name}"`);
    return mapped;
  });
  return { ciphers: [...TLS13_SUITES, ...new Set(openssl)].join(':'), honorCipherOrder: true };
}
