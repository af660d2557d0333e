export { clientCertCommonName, httpClientCertCommonName, peerCommonName } from './client-identity';
export { cipherOptions, unknownCipherSuites } from './cipher-suites';
export { prepareMemberTls, type MemberTls } from './member-tls';
export { PeerClientTls, peerChannelCredentials, type PeerTlsSettings } from './peer-tls';
export { TlsTerminator, type ServerTlsSettings } from './server-tls';
export { TlsReloader, readTlsMaterial, type TlsFileSet, type TlsMaterial } from './tls-files';
export { ensureSelfSignedCert } from './auto-tls';
