import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A throwaway certificate authority and certificates for TLS tests (made with openssl). */
export interface CertPair {
  certFile: string;
  keyFile: string;
}

export interface TestCa {
  name: string;
  certFile: string;
  keyFile: string;
}

let serialCounter = 0;

function openssl(args: string[], cwd: string): void {
  const result = childProcess.spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr || result.error?.message}`);
}

/**
 * A temp directory of test PKI material; remove() deletes it. RSA keys, so the
 * TLS_ECDHE_RSA_* suites are usable.
 */
export class TestPki {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-pki-'));

  /** A self-signed CA. */
  makeCa(name: string): TestCa {
    const certFile = path.join(this.dir, `${name}.crt`);
    const keyFile = path.join(this.dir, `${name}.key`);
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`], this.dir);
    return { name, certFile, keyFile };
  }

  /**
   * A certificate signed by `ca`, usable as server and client certificate (peers present the
   * same one both ways), with SAN IP:127.0.0.1 and DNS:localhost. `file` names the output
   * (default: the CN); writing over an existing pair is how reload tests replace one.
   */
  issue(ca: TestCa, commonName: string, file = commonName): CertPair {
    const certFile = path.join(this.dir, `${file}.crt`);
    const keyFile = path.join(this.dir, `${file}.key`);
    const stem = `${file}-${++serialCounter}`;
    const csr = path.join(this.dir, `${stem}.csr`);
    const ext = path.join(this.dir, `${stem}.ext`);
    const newKey = path.join(this.dir, `${stem}.key`);
    const newCert = path.join(this.dir, `${stem}.crt`);
    fs.writeFileSync(
      ext,
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n',
    );
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', newKey, '-out', csr, '-subj', `/CN=${commonName}`], this.dir);
    const serial = `0x${Date.now().toString(16)}${(serialCounter % 256).toString(16).padStart(2, '0')}`;
    openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', serial, '-out', newCert, '-days', '2', '-extfile', ext], this.dir);
    // Rename over the old pair (key first), as a certificate rotation would.
    fs.renameSync(newKey, keyFile);
    fs.renameSync(newCert, certFile);
    return { certFile, keyFile };
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
