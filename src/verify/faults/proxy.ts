import * as net from 'node:net';
import type { Logger } from '../../log';
import { findSocketOwner } from './socket-owner';

/**
 * A TCP proxy in front of one member's peer port. Other members dial the proxy (it is the
 * member's advertised peer URL); the proxy forwards to the member's real listen port. Each
 * accepted connection is attributed to the member that dialed it (see socket-owner.ts), so
 * links can be cut per direction: `block(from)` drops every connection from `from` to this
 * member and refuses new ones until `unblock(from)`. Connections whose source cannot be
 * identified count as coming from UNKNOWN_SOURCE and are cut only by `blockAll()`.
 */

export const UNKNOWN_SOURCE = '?';

/** Maps a dialing pid to a member name (the runner knows the member pids; they change on restart). */
export type SourceResolver = (clientPort: number, proxyPort: number) => string;

interface Link {
  source: string;
  client: net.Socket;
  upstream: net.Socket;
}

const MAX_CONNECTIONS = 256;

export class PeerProxy {
  private server: net.Server | undefined;
  private readonly links = new Set<Link>();
  private readonly blocked = new Set<string>();
  private allBlocked = false;
  /** Bytes forwarded, for tests and the report. */
  forwardedBytes = 0;
  /** Accepted connections whose dialing member was / was not identified (for the report). */
  attributed = 0;
  unattributed = 0;

  constructor(
    readonly destination: string,
    readonly listenPort: number,
    readonly targetPort: number,
    private readonly resolveSource: SourceResolver,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.server !== undefined) throw new Error('proxy already started');
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.listenPort }, () => resolve());
    });
  }

  private accept(client: net.Socket): void {
    client.on('error', () => client.destroy());
    if (this.links.size >= MAX_CONNECTIONS) {
      client.destroy();
      return;
    }
    const source = client.remotePort === undefined ? UNKNOWN_SOURCE : this.resolveSource(client.remotePort, this.listenPort);
    if (source === UNKNOWN_SOURCE) this.unattributed++;
    else this.attributed++;
    if (this.isBlocked(source)) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: this.targetPort });
    const link: Link = { source, client, upstream };
    this.links.add(link);
    const close = (): void => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    client.on('data', (chunk: Buffer) => {
      this.forwardedBytes += chunk.length;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      this.forwardedBytes += chunk.length;
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
  }

  private isBlocked(source: string): boolean {
    return this.allBlocked || this.blocked.has(source);
  }

  /** Cuts traffic from `source` to this member (both directions of those connections). */
  block(source: string): void {
    this.blocked.add(source);
    this.cutBlocked();
  }

  unblock(source: string): void {
    this.blocked.delete(source);
  }

  /** Cuts every inbound connection, identified or not. */
  blockAll(): void {
    this.allBlocked = true;
    this.cutBlocked();
  }

  unblockAll(): void {
    this.allBlocked = false;
    this.blocked.clear();
  }

  blockedSources(): string[] {
    return this.allBlocked ? ['*'] : [...this.blocked];
  }

  connectionSources(): string[] {
    return [...this.links].map((link) => link.source);
  }

  private cutBlocked(): void {
    for (const link of [...this.links]) {
      if (!this.isBlocked(link.source)) continue;
      this.log.debug({ destination: this.destination, source: link.source }, 'cutting peer connection');
      this.links.delete(link);
      link.client.destroy();
      link.upstream.destroy();
    }
  }

  async stop(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A SourceResolver over a live pid → name table (pids change when members restart). */
export function pidTableResolver(pids: () => ReadonlyMap<number, string>): SourceResolver {
  return (clientPort, proxyPort) => {
    const table = pids();
    const pid = findSocketOwner(clientPort, proxyPort, [...table.keys()]);
    return pid === undefined ? UNKNOWN_SOURCE : (table.get(pid) ?? UNKNOWN_SOURCE);
  };
}
