/**
 * Linearizable reads (ReadIndex, §6.4): the leader records its commit index for a read
 * request, broadcasts a heartbeat carrying the request context, and answers once a quorum
 * acknowledged that heartbeat, which proves it was still leader when the read arrived.
 * Requests are answered in arrival order; acking a later one confirms all earlier ones.
 */
import { bytesKey, type Message } from './messages';
import type { NodeId } from './types';

export interface ReadIndexStatus {
  request: Message;
  index: bigint;
  acks: Map<NodeId, boolean>;
}

/** Bound on outstanding read requests; beyond it new reads are dropped (callers retry). */
export const MAX_PENDING_READS = 4096;

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Returns false when the queue is full and the request was dropped. */
  addRequest(index: bigint, request: Message): boolean {
    const key = bytesKey(request.context);
    if (this.pending.has(key)) return true; // duplicate context: already pending
    if (this.queue.length >= MAX_PENDING_READS) return false;
    this.pending.set(key, { request, index, acks: new Map() });
    this.queue.push(key);
    return true;
  }

  /** Records a heartbeat ack carrying context; returns the acks so far, if the read is pending. */
  recvAck(id: NodeId, context: Uint8Array): Map<NodeId, boolean> | undefined {
    const status = this.pending.get(bytesKey(context));
    if (!status) return undefined;
    status.acks.set(id, true);
    return status.acks;
  }

  /** Dequeues and returns every request up to and including the one with this context. */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = bytesKey(context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const status = this.pending.get(k);
      if (!status) throw new Error('read-only queue and pending map disagree');
      this.pending.delete(k);
      out.push(status);
    }
    return out;
  }

  lastPendingRequestContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)?.request.context;
  }
}
