import * as fs from 'node:fs';
import * as tls from 'node:tls';
import type { Logger } from '../log';

/** One side's certificate files (cert and key required; the CA optional). */
export interface TlsFileSet {
  certFile: string;
  keyFile: string;
  /** Empty: no CA of our own (peers' certificates are checked against the system roots). */
  trustedCaFile: string;
}

/** The files' contents, as the secure context and grpc-js credentials take them. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
}

export function readTlsMaterial(files: TlsFileSet): TlsMaterial {
  return {
    cert: fs.readFileSync(files.certFile),
    key: fs.readFileSync(files.keyFile),
    ca: files.trustedCaFile === '' ? undefined : fs.readFileSync(files.trustedCaFile),
  };
}

/** What changes when a file is replaced (rename over it) or rewritten in place. */
function fileSignature(file: string): string {
  try {
    const stat = fs.statSync(file);
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** How often the files are looked at, at most (each accepted connection may trigger a look). */
export const RELOAD_CHECK_INTERVAL_MS = 1000;

/**
 * The certificate, key and CA of one side, re-read when a file changes (mtime, size or
 * inode), so a renewed certificate serves new connections without a restart. Files are
 * stat'ed at most once per RELOAD_CHECK_INTERVAL_MS. A change that does not load (a
 * half-written file, a key that does not match) keeps the previous material and is logged;
 * it is retried at the next check.
 */
export class TlsReloader {
  private material: TlsMaterial;
  private context: tls.SecureContext;
  private signature: string;
  private lastCheckMs: number;
  /** Bumped on every successful reload; lets holders of derived state (credentials) notice. */
  generation = 0;

  constructor(
    readonly files: TlsFileSet,
    /** Options added to every secure context (cipher suites). */
    private readonly extra: tls.SecureContextOptions,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.signature = this.currentSignature();
    this.material = readTlsMaterial(files);
    this.context = tls.createSecureContext(this.contextOptions());
    this.lastCheckMs = now();
  }

  /** Options for tls.createSecureContext / tls.Server.setSecureContext from the current files. */
  contextOptions(): tls.SecureContextOptions {
    const { cert, key, ca } = this.material;
    return { ...this.extra, cert, key, ...(ca === undefined ? {} : { ca }) };
  }

  /** The current secure context (after a reload check). */
  secureContext(): tls.SecureContext {
    this.refresh();
    return this.context;
  }

  /** The current file contents (after a reload check). */
  currentMaterial(): TlsMaterial {
    this.refresh();
    return this.material;
  }

  /** Re-reads the files if the check interval passed and they changed; true when reloaded. */
  refresh(): boolean {
    const now = this.now();
    if (now - this.lastCheckMs < RELOAD_CHECK_INTERVAL_MS) return false;
    this.lastCheckMs = now;
    const signature = this.currentSignature();
    if (signature === this.signature) return false;
    try {
      const material = readTlsMaterial(this.files);
      const context = tls.createSecureContext({ ...this.extra, cert: material.cert, key: material.key, ...(material.ca === undefined ? {} : { ca: material.ca }) });
      this.material = material;
      this.context = context;
      this.signature = signature;
      this.generation++;
      this.logger.info({ certFile: this.files.certFile }, 'reloaded TLS certificate files');
      return true;
    } catch (err) {
      this.logger.warn({ certFile: this.files.certFile, err: err instanceof Error ? err.message : String(err) }, 'changed TLS files do not load; keeping the previous ones');
      return false;
    }
  }

  private currentSignature(): string {
    const { certFile, keyFile, trustedCaFile } = this.files;
    return [certFile, keyFile, trustedCaFile].map((file) => (file === '' ? '-' : fileSignature(file))).join('|');
  }
}
