import * as net from 'node:net';
import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
  type sendUnaryData,
  type ConnectionInjector,
} from '@grpc/grpc-js';
import { TlsTerminator, type ServerTlsSettings } from '../tls/server-tls';
import { TrackedSockets } from '../tracked-sockets';
import { MessageType, isLocalMessage, messageTypeName, type Message, type NodeId } from '../consensus';
import type { Logger } from '../log';
import { decodeRaftEnvelope } from './codec/raft-message-codec';
import { EMPTY_MESSAGE, decodeInt64List, encodeClusterInfo, encodeUint64List } from './codec/peer-codec';
import { MAX_KEEPALIVE_BATCH } from './keepalive-batcher';
import { decodeTimeToLiveQuery, encodeTimeToLiveAnswer, type TimeToLiveQuery } from './codec/lease-time-to-live-codec';
import { MEMBER_REMOVED_DETAILS, checkIdentity, isRefusal, type CallIdentity } from './peer-metadata';
import type { PeerRemovalHooks } from './removal-hooks';
import { peerAddressOf } from './peer-urls';
import { peerServiceDefinition, serverOptions } from './peer-service';
import { SnapshotReception } from './snapshot-receiver';
import type { PeerHandler } from './types';

const MAX_WARNED_REFUSALS = 256;

/**
 * A handler failure as a call status: an error carrying a gRPC code (EtcdError, e.g. "not
 * leader") keeps it, so the forwarding member can answer its client with the same error.
 */
function errorStatus(err: unknown): { code: GrpcStatus; details: string } {
  const details = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && Number.isInteger(code) && code > 0 && code <= 16) return { code, details };
  return { code: GrpcStatus.UNAVAILABLE, details };
}

/**
 * The receiving half of the transport: latchkeyraftpb.Peer on --listen-peer-urls. It checks
 * every caller's cluster and target ids, hands Raft messages to the member in stream
 * order, and writes incoming snapshots to temp files.
 */
export class PeerServer {
  private readonly server = new Server(serverOptions);
  private readonly streams = new Set<ServerDuplexStream<Buffer, Buffer>>();
  private readonly receptions = new Set<SnapshotReception>();
  private readonly boundPorts: number[] = [];
  private closed = false;
  /** Refusals already warned about (a refused peer retries every few seconds): later ones log at debug. */
  private readonly warnedRefusals = new Set<string>();
  /** https:// listen URLs: our own TCP listeners, TLS terminated, fed to grpc-js. */
  private readonly tlsListeners: net.Server[] = [];
  private readonly tlsSockets = new TrackedSockets(() => this.closed);
  private injector: ConnectionInjector | undefined;
  private terminator: TlsTerminator | undefined;

  constructor(
    private readonly localId: NodeId,
    private readonly clusterId: bigint,
    private readonly handler: PeerHandler & Partial<PeerRemovalHooks>,
    private readonly logger: Logger,
    private readonly snapshotDirectory: string,
    private readonly tls?: ServerTlsSettings,
    /** A peer opened its stream to us: it is up (the transport redials a stream backing off towards it). */
    private readonly onPeerStream: (from: NodeId) => void = () => undefined,
  ) {
    const implementation: UntypedServiceImplementation = {
      Stream: (call: ServerDuplexStream<Buffer, Buffer>) => this.onStream(call),
      Snapshot: (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => this.onSnapshot(call, callback),
      LeaseKeepAlive: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => this.onLeaseKeepAlive(call, callback),
      ClusterInfo: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => this.onClusterInfo(callback),
      LeaseTimeToLive: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => this.onLeaseTimeToLive(call, callback),
    };
    this.server.addService(peerServiceDefinition, implementation);
  }

  /** Ports bound by listen(), in URL order (useful with port 0). */
  get ports(): number[] {
    return this.boundPorts.slice();
  }

  async listen(urls: string[]): Promise<void> {
    for (const url of urls) {
      const address = peerAddressOf(url);
      if (!url.startsWith('https:') && this.tls !== undefined) {
        this.logger.warn({ url }, 'scheme is HTTP while key and cert files are present; ignoring key and cert files');
      }
      const port = url.startsWith('https:')
        ? await this.listenTls(url)
        : await new Promise<number>((resolve, reject) => {
            this.server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
          });
      this.boundPorts.push(port);
      this.logger.info({ url, port }, 'serving peers');
    }
  }

  /**
   * An https:// peer URL. grpc-js' own TLS listener cannot take our cipher suites or refuse
   * a CN, nor reload its files, so the TLS is ours (TlsTerminator, as on the client port)
   * and grpc-js gets the decrypted TLSSocket through a connection injector.
   */
  private async listenTls(url: string): Promise<number> {
    if (this.tls === undefined) throw new Error(`peer URL ${url} is https:// but no peer TLS certificate is configured`);
    this.injector ??= this.server.createConnectionInjector(ServerCredentials.createInsecure());
    const injector = this.injector;
    this.terminator ??= new TlsTerminator(this.tls, ['h2'], this.logger, (socket) => {
      if (this.closed) socket.destroy();
      else injector.injectConnection(socket);
    });
    const terminator = this.terminator;
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    const listener = net.createServer({ noDelay: true }, (socket) => {
      if (this.tlsSockets.admit(socket)) terminator.accept(socket);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host, port: Number(parsed.port) }, () => {
        listener.off('error', reject);
        listener.on('error', (err) => this.logger.error({ err, url }, 'peer listener failed'));
        resolve();
      });
    });
    this.tlsListeners.push(listener);
    if (this.closed) listener.close();
    return (listener.address() as net.AddressInfo).port;
  }

  /** Cuts every call at once: peers' streams are long-lived, a graceful wait would never end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.tlsListeners) listener.close();
    this.tlsSockets.destroyAll();
    this.injector?.destroy();
    for (const reception of this.receptions) reception.abort();
    this.receptions.clear();
    this.streams.clear();
    this.server.forceShutdown();
  }

  private identify(call: { metadata: Metadata }, refuse: (code: GrpcStatus, details: string) => void): CallIdentity | undefined {
    const identity = checkIdentity(call.metadata, { id: this.localId, clusterId: this.clusterId });
    if (!isRefusal(identity)) return identity;
    this.logRefusal(identity.details, { details: identity.details }, 'refused a peer call');
    refuse(identity.code, identity.details);
    return undefined;
  }

  private logRefusal(key: string, fields: Record<string, string>, message: string): void {
    if (this.warnedRefusals.has(key)) {
      this.logger.debug(fields, message);
      return;
    }
    if (this.warnedRefusals.size >= MAX_WARNED_REFUSALS) this.warnedRefusals.clear();
    this.warnedRefusals.add(key);
    this.logger.warn(fields, message);
  }

  private onStream(call: ServerDuplexStream<Buffer, Buffer>): void {
    const identity = this.identify(call, (code, details) => call.emit('error', { code, details }));
    if (identity === undefined) return;
    if (this.closed) {
      call.emit('error', { code: GrpcStatus.UNAVAILABLE, details: 'latchkey: peer transport closed' });
      return;
    }
    if (this.refuseIfRemoved(identity.from, call)) return;
    this.streams.add(call);
    this.logger.debug({ from: identity.from.toString(16) }, 'peer stream accepted');
    call.write(EMPTY_MESSAGE);
    call.on('data', (bytes: Buffer) => this.onEnvelope(identity.from, bytes, call));
    call.on('end', () => call.end());
    call.on('error', () => undefined);
    call.on('close', () => this.streams.delete(call));
    call.on('cancelled', () => this.streams.delete(call));
    this.onPeerStream(identity.from);
  }

  /** A removed member's stream is ended, also one opened before its removal was applied. */
  private refuseIfRemoved(from: NodeId, call: ServerDuplexStream<Buffer, Buffer>): boolean {
    if (this.handler.isMemberRemoved?.(from) !== true) return false;
    this.logRefusal(`removed ${from}`, { from: from.toString(16) }, 'refused a stream from a removed member');
    call.emit('error', { code: GrpcStatus.FAILED_PRECONDITION, details: MEMBER_REMOVED_DETAILS });
    return true;
  }

  private onEnvelope(from: NodeId, bytes: Buffer, call: ServerDuplexStream<Buffer, Buffer>): void {
    if (!this.streams.has(call) || this.refuseIfRemoved(from, call)) {
      this.streams.delete(call);
      return;
    }
    let messages: Message[];
    try {
      messages = decodeRaftEnvelope(bytes);
    } catch (err) {
      const details = `latchkey: undecodable raft envelope: ${err instanceof Error ? err.message : String(err)}`;
      this.logger.warn({ from: from.toString(16), details }, 'closing a peer stream');
      this.streams.delete(call);
      call.emit('error', { code: GrpcStatus.INVALID_ARGUMENT, details });
      return;
    }
    for (const message of messages) {
      if (!this.acceptable(from, message)) continue;
      this.handler.onRaftMessage(message);
    }
  }

  /** Messages that could only come from a confused or hostile peer never reach Raft. */
  private acceptable(from: NodeId, message: Message): boolean {
    let problem: string | undefined;
    if (message.from !== from) problem = 'sender differs from the stream owner';
    else if (message.to !== this.localId) problem = 'addressed to another member';
    else if (message.type === MessageType.Snap) problem = 'MsgSnap on the stream (snapshots use the pipeline)';
    else if (isLocalMessage(message.type)) problem = 'local message type';
    if (problem === undefined) return true;
    this.logger.warn({ from: from.toString(16), type: messageTypeName(message.type), problem }, 'dropped a peer message');
    return false;
  }

  private onSnapshot(call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
    const identity = this.identify(call, (code, details) => callback({ code, details }));
    if (identity === undefined) return;
    if (this.closed) {
      callback({ code: GrpcStatus.UNAVAILABLE, details: 'latchkey: peer transport closed' });
      return;
    }
    const reception = new SnapshotReception(
      call,
      (err, value) => {
        this.receptions.delete(reception);
        callback(err, value);
      },
      identity,
      this.handler,
      { directory: this.snapshotDirectory },
      this.logger,
    );
    this.receptions.add(reception);
    reception.start();
  }

  private onLeaseKeepAlive(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
    if (this.identify(call, (code, details) => callback({ code, details })) === undefined) return;
    let leaseIds: bigint[];
    try {
      // A batch of lease ids (a follower's forwards gathered while its last call was out); an
      // empty message is lease id 0, as a single forward of 0 encodes.
      leaseIds = decodeInt64List(call.request);
      if (leaseIds.length === 0) leaseIds = [0n];
      if (leaseIds.length > MAX_KEEPALIVE_BATCH) throw new Error(`${leaseIds.length} lease ids in one forward (at most ${MAX_KEEPALIVE_BATCH})`);
    } catch (err) {
      callback({ code: GrpcStatus.INVALID_ARGUMENT, details: `latchkey: bad LeaseKeepAliveForward: ${String(err)}` });
      return;
    }
    Promise.all(leaseIds.map((id) => this.handler.leaseKeepAlive(id))).then(
      (ttls) => callback(null, encodeUint64List(ttls)),
      (err: unknown) => callback(errorStatus(err)),
    );
  }

  private onLeaseTimeToLive(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
    if (this.identify(call, (code, details) => callback({ code, details })) === undefined) return;
    let query: TimeToLiveQuery;
    try {
      query = decodeTimeToLiveQuery(call.request);
    } catch (err) {
      callback({ code: GrpcStatus.INVALID_ARGUMENT, details: `latchkey: bad LeaseTimeToLiveForward: ${String(err)}` });
      return;
    }
    try {
      callback(null, encodeTimeToLiveAnswer(this.handler.leaseTimeToLive(query)));
    } catch (err) {
      callback(errorStatus(err));
    }
  }

  /** Not identity-checked: a joining member does not know the cluster id yet. */
  private onClusterInfo(callback: sendUnaryData<Buffer>): void {
    try {
      callback(null, encodeClusterInfo(this.handler.clusterInfo()));
    } catch (err) {
      callback(errorStatus(err));
    }
  }
}
