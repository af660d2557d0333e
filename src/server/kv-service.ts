import type { Answer, KvPort, RequestContext } from '../api/member-port';
import type {
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResult,
  PutRequest,
  PutResult,
  RangeRequest,
  RangeResult,
  TxnRequest,
  TxnResult,
} from '../storage/mvcc/types';
import type { Member } from './member';
import { isSerializableTxn } from './txn-kind';
import { isTxnReadOnly } from '../storage/mvcc';

/** KV: reads from local LMDB (after ReadIndex unless serializable), writes through Raft. */
export class KvService implements KvPort {
  constructor(private readonly member: Member) {}

  async range(req: RangeRequest, ctx: RequestContext): Promise<Answer<RangeResult>> {
    if (!req.serializable) await this.member.linearizableRead(ctx);
    const result = this.member.store.range(req);
    return { header: this.member.header(), result };
  }

  async put(req: PutRequest, ctx: RequestContext): Promise<Answer<PutResult>> {
    const { revision, value } = await this.member.propose({ kind: 'put', put: req }, ctx);
    return { header: this.member.header(revision), result: value as PutResult };
  }

  async deleteRange(req: DeleteRangeRequest, ctx: RequestContext): Promise<Answer<DeleteRangeResult>> {
    const { revision, value } = await this.member.propose({ kind: 'deleteRange', deleteRange: req }, ctx);
    return { header: this.member.header(revision), result: value as DeleteRangeResult };
  }

  /** Read-only txns skip Raft, as in etcd: a ReadIndex round (unless serializable), then a local read. */
  async txn(req: TxnRequest, ctx: RequestContext): Promise<Answer<TxnResult>> {
    if (isTxnReadOnly(req)) {
      if (!isSerializableTxn(req)) await this.member.linearizableRead(ctx);
      const result = this.member.store.readTxn(req);
      return { header: this.member.header(), result };
    }
    const { revision, value } = await this.member.propose({ kind: 'txn', txn: req }, ctx);
    return { header: this.member.header(revision), result: value as TxnResult };
  }

  async compact(req: CompactionRequest, ctx: RequestContext): Promise<Answer<null>> {
    await this.member.propose({ kind: 'compaction', compaction: req }, ctx);
    return { header: this.member.header(), result: null };
  }
}
