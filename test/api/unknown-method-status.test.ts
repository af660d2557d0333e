import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrpcCode } from '../../src/errors';
import { unknownMethodStatus } from '../../src/api/unknown-method-status';

const SERVICES = new Set(['etcdserverpb.KV', 'v3lockpb.Lock']);

test("a path no service has gets grpc-go's status: code and words as etcd 3.4 answers", () => {
  const cases: Array<[string, number, string]> = [
    ['/etcdserverpb.KV/Nope', GrpcCode.UNIMPLEMENTED, 'unknown method Nope for service etcdserverpb.KV'],
    ['/etcdserverpb.KV/', GrpcCode.UNIMPLEMENTED, 'unknown method  for service etcdserverpb.KV'],
    ['/etcdserverpb.KV/Range?x=1', GrpcCode.UNIMPLEMENTED, 'unknown method Range?x=1 for service etcdserverpb.KV'],
    ['/etcdserverpb.Nope/Put', GrpcCode.UNIMPLEMENTED, 'unknown service etcdserverpb.Nope'],
    // The split is at the last '/': everything before it is the service.
    ['/etcdserverpb.KV/Range/', GrpcCode.UNIMPLEMENTED, 'unknown service etcdserverpb.KV/Range'],
    ['/x/y/Put', GrpcCode.UNIMPLEMENTED, 'unknown service x/y'],
    ['//Put', GrpcCode.UNIMPLEMENTED, 'unknown service '],
    // Without a '/' after the leading one, grpc-go calls it malformed, with RESOURCE_EXHAUSTED.
    ['/etcdserverpb.KV', GrpcCode.RESOURCE_EXHAUSTED, 'malformed method name: "/etcdserverpb.KV"'],
    ['/', GrpcCode.RESOURCE_EXHAUSTED, 'malformed method name: "/"'],
    ['/a"b\\c', GrpcCode.RESOURCE_EXHAUSTED, 'malformed method name: "/a\\"b\\\\c"'],
  ];
  for (const [path, code, details] of cases) assert.deepEqual(unknownMethodStatus(path, SERVICES), { code, details }, path);
});
