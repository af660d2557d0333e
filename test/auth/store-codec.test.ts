import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthRequest } from '../../src/auth/auth-requests';
import { PermType } from '../../src/auth/permissions';
import { decodeRequest, encodeRequest } from '../../src/server/request-codec';
import type { Proposal } from '../../src/server/proposal';

const REQUESTS: AuthRequest[] = [
  { op: 'authEnable' },
  { op: 'authDisable' },
  { op: 'authenticate', name: 'root', tokenPrefix: 'bFTVxuTqbtTWgMwZ' },
  { op: 'userAdd', name: 'alice', passwordHash: '$2b$04$abc', noPassword: false },
  { op: 'userAdd', name: 'cn-only', passwordHash: '', noPassword: true },
  { op: 'userDelete', name: 'alice' },
  { op: 'userChangePassword', name: 'alice', passwordHash: '$2b$04$def' },
  { op: 'userGrantRole', user: 'alice', role: 'r1' },
  { op: 'userRevokeRole', name: 'alice', role: 'r1' },
  { op: 'roleAdd', name: 'r1' },
  { op: 'roleDelete', role: 'r1' },
  { op: 'roleGrantPermission', name: 'r1', perm: { permType: PermType.READWRITE, key: Buffer.from('/app/'), rangeEnd: Buffer.from('/app0') } },
  { op: 'roleGrantPermission', name: 'r1', perm: { permType: PermType.READ, key: Buffer.from('k'), rangeEnd: Buffer.alloc(0) } },
  { op: 'roleRevokePermission', role: 'r1', key: Buffer.from('/a'), rangeEnd: Buffer.from([0]) },
];

describe('auth proposals as Raft entries', () => {
  test('every auth request survives encode and decode, with its proposer', () => {
    for (const request of REQUESTS) {
      const proposal: Proposal = { kind: 'auth', request, actor: { user: 'root', authRevision: 42n } };
      const decoded = decodeRequest(encodeRequest({ requestId: 0x1234_5678_9abc_def0n, proposal }));
      assert.equal(decoded.requestId, 0x1234_5678_9abc_def0n);
      assert.deepEqual(decoded.proposal, proposal, request.op);
    }
  });

  test('an anonymous proposer (auth off) decodes as user "" at revision 0', () => {
    const proposal: Proposal = { kind: 'auth', request: { op: 'roleAdd', name: 'x' }, actor: { user: '', authRevision: 0n } };
    assert.deepEqual(decodeRequest(encodeRequest({ requestId: 1n, proposal })).proposal, proposal);
  });

  test('KV proposals decode as before', () => {
    const proposal: Proposal = { kind: 'leaseRevoke', leaseId: 7n };
    assert.deepEqual(decodeRequest(encodeRequest({ requestId: 9n, proposal })).proposal, proposal);
  });
});
