import type { KeyValue, RangeResult } from '../../storage/mvcc/types';
import type { ResponseHeader } from '../member-port';
import { WireType, WireWriter, boolFieldSize, bytesFieldSize, delimitedSize, int64FieldSize } from '../../transport/codec/wire-writer';
import { headerRecord } from './hand-encoding';

/**
 * etcdserverpb.RangeResponse encoded by hand (hand-encoding.ts says why): a Range is the
 * most frequent call, and protobufjs' op list and the wire object tree in front of it were
 * most of what a serializable read allocated. Same bytes as rangeResponseToWire + protobufjs.
 */

const KVS = 2;
const MORE = 3;
const COUNT = 4;

const KV_KEY = 1;
const KV_CREATE_REVISION = 2;
const KV_MOD_REVISION = 3;
const KV_VERSION = 4;
const KV_VALUE = 5;
const KV_LEASE = 6;

/** mvccpb.KeyValue's encoded size (zero values left out). */
function keyValueSize(kv: KeyValue): number {
  return (
    bytesFieldSize(KV_KEY, kv.key) +
    int64FieldSize(KV_CREATE_REVISION, kv.createRevision) +
    int64FieldSize(KV_MOD_REVISION, kv.modRevision) +
    int64FieldSize(KV_VERSION, kv.version) +
    bytesFieldSize(KV_VALUE, kv.value) +
    int64FieldSize(KV_LEASE, kv.lease)
  );
}

function writeKeyValue(writer: WireWriter, kv: KeyValue): void {
  writer.bytesField(KV_KEY, kv.key);
  writer.int64Field(KV_CREATE_REVISION, kv.createRevision);
  writer.int64Field(KV_MOD_REVISION, kv.modRevision);
  writer.int64Field(KV_VERSION, kv.version);
  writer.bytesField(KV_VALUE, kv.value);
  writer.int64Field(KV_LEASE, kv.lease);
}

export function encodeRangeResponse(header: ResponseHeader, r: RangeResult): Buffer {
  const head = headerRecord(header);
  const kvSizes = r.kvs.map(keyValueSize);
  let size = head.length + boolFieldSize(MORE, r.more) + int64FieldSize(COUNT, r.count);
  for (const kvSize of kvSizes) size += delimitedSize(KVS, kvSize);
  const writer = new WireWriter(Buffer.allocUnsafe(size));
  writer.raw(head);
  for (let i = 0; i < r.kvs.length; i++) {
    writer.tag(KVS, WireType.LengthDelimited).varint32(kvSizes[i]!);
    writeKeyValue(writer, r.kvs[i]!);
  }
  writer.boolField(MORE, r.more);
  writer.int64Field(COUNT, r.count);
  return writer.finish();
}
