import { Metadata } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { AuthGate, AuthIdentity } from '../../src/auth/auth-gate';
import { Errors } from '../../src/errors';
import type { CallSurface } from '../../src/api/request-context';

/**
 * An AuthGate that records every call and grants by prefix: `reads` / `writes` map a user
 * to the key prefixes it may read / write; a range is allowed when its start has the prefix
 * and its end is within the prefix's end (or it is one key). `root` may do anything.
 */
export class FakeGate implements AuthGate {
  on = true;
  readonly calls: string[] = [];
  readonly tokens = new Map<string, string>([
    ['tok-reader', 'reader'],
    ['tok-writer', 'writer'],
    ['tok-root', 'root'],
  ]);
  readonly reads = new Map<string, string[]>([
    ['reader', ['/app/']],
    ['writer', ['/app/']],
  ]);
  readonly writes = new Map<string, string[]>([['writer', ['/app/']]]);

  enabled(): boolean {
    return this.on;
  }

  identify(token: string | undefined, certCommonName: string | undefined): AuthIdentity | null {
    this.calls.push(`identify ${token ?? '-'} ${certCommonName ?? '-'}`);
    if (token !== undefined) {
      const user = this.tokens.get(token);
      if (user === undefined) throw Errors.invalidAuthToken();
      return { user, authRevision: 1n };
    }
    if (!this.on) return null;
    if (certCommonName !== undefined) return { user: certCommonName, authRevision: 1n };
    throw Errors.userEmpty();
  }

  checkRead(identity: AuthIdentity, key: Buffer, rangeEnd: Buffer): void {
    this.calls.push(`read ${identity.user} ${show(key)} ${show(rangeEnd)}`);
    if (!this.allowed(this.reads, identity, key, rangeEnd)) throw Errors.permissionDenied();
  }

  checkWrite(identity: AuthIdentity, key: Buffer, rangeEnd: Buffer): void {
    this.calls.push(`write ${identity.user} ${show(key)} ${show(rangeEnd)}`);
    if (!this.allowed(this.writes, identity, key, rangeEnd)) throw Errors.permissionDenied();
  }

  checkAdmin(identity: AuthIdentity): void {
    this.calls.push(`admin ${identity.user}`);
    if (identity.user !== 'root') throw Errors.permissionDenied();
  }

  /** The recorded permission checks (identify calls left out). */
  checks(): string[] {
    return this.calls.filter((c) => !c.startsWith('identify'));
  }

  private allowed(table: Map<string, string[]>, identity: AuthIdentity, key: Buffer, rangeEnd: Buffer): boolean {
    if (identity.user === 'root') return true;
    const k = key.toString();
    const end = rangeEnd.toString();
    return (table.get(identity.user) ?? []).some((prefix) => {
      if (!k.startsWith(prefix)) return false;
      if (end === '') return true;
      const prefixEnd = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
      return end !== '\0' && end <= prefixEnd;
    });
  }
}

function show(b: Buffer): string {
  return b.length === 0 ? '""' : JSON.stringify(b.toString());
}

/** A stand-in for a grpc-js call: metadata, cancel events, optionally a verified cert CN. */
export class FakeCall extends EventEmitter implements CallSurface {
  readonly metadata = new Metadata();
  cancelled = false;
  request: unknown;
  readonly written: unknown[] = [];

  constructor(metadata: Record<string, string> = {}, private readonly cn?: string) {
    super();
    for (const [key, value] of Object.entries(metadata)) this.metadata.set(key, value);
  }

  getAuthContext(): { sslPeerCertificate?: { subject?: { CN?: string } } } {
    return this.cn === undefined ? {} : { sslPeerCertificate: { subject: { CN: this.cn } } };
  }

  write(message: unknown, callback?: () => void): boolean {
    this.written.push(message);
    callback?.();
    return true;
  }
}
