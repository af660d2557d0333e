import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from '../log';
import {
  compactionRequestFromWire,
  deleteRangeRequestFromWire,
  putRequestFromWire,
  rangeRequestFromWire,
  txnRequestFromWire,
} from './codec/kv-requests';
import {
  deleteRangeResponseToWire,
  headerOnlyResponseToWire,
  putResponseToWire,
  txnResponseToWire,
} from './codec/kv-responses';
import type { MemberPort } from './member-port';
import { unaryHandler } from './unary-handler';
import { wireBytesOf } from './method-codec';
import { encodeRangeResponse } from './codec/range-response-encoder';
import { validateDeleteRange, validateProposalSize, validatePut, validateRange, validateTxn } from './validate-kv';

/** etcdserverpb.KV: decode, validate (nothing reaches the member on error), call, encode. */
export function kvService(member: MemberPort, logger: Logger): UntypedServiceImplementation {
  return {
    Range: unaryHandler('KV/Range', logger, async (w, ctx) => {
      const req = rangeRequestFromWire(w);
      validateRange(req);
      const answer = await member.kv.range(req, ctx);
      return encodeRangeResponse(answer.header, answer.result);
    }),
    Put: unaryHandler('KV/Put', logger, async (w, ctx) => {
      const req = putRequestFromWire(w);
      validatePut(req);
      validateProposalSize(wireBytesOf(w), member.limits.maxRequestBytes);
      const answer = await member.kv.put(req, ctx);
      return putResponseToWire(answer.header, answer.result);
    }),
    DeleteRange: unaryHandler('KV/DeleteRange', logger, async (w, ctx) => {
      const req = deleteRangeRequestFromWire(w);
      validateDeleteRange(req);
      validateProposalSize(wireBytesOf(w), member.limits.maxRequestBytes);
      const answer = await member.kv.deleteRange(req, ctx);
      return deleteRangeResponseToWire(answer.header, answer.result);
    }),
    Txn: unaryHandler('KV/Txn', logger, async (w, ctx) => {
      const req = txnRequestFromWire(w);
      validateTxn(req, member.limits.maxTxnOps);
      validateProposalSize(wireBytesOf(w), member.limits.maxRequestBytes);
      const answer = await member.kv.txn(req, ctx);
      return txnResponseToWire(answer.header, answer.result);
    }),
    Compact: unaryHandler('KV/Compact', logger, async (w, ctx) => {
      const answer = await member.kv.compact(compactionRequestFromWire(w), ctx);
      return headerOnlyResponseToWire(answer.header);
    }),
  };
}
