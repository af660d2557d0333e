import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Lessor } from '../../src/lease/lessor';
import { silentLogger } from '../../src/log';
import { Applier, type CommittedRequest } from '../../src/server/applier';
import { Membership } from '../../src/server/membership';
import { decodeRequest, encodeRequest } from '../../src/server/request-codec';
import type { Proposal, RequestEnvelope } from '../../src/server/proposal';
import { MvccStore } from '../../src/storage/mvcc';

const ROOT = { user: 'root', authRevision: 0n };

describe('applier: writes checked at an older auth revision', () => {
  test('are refused with "revision of auth store is old" once auth changed; current ones apply', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-applier-auth-'));
    const store = MvccStore.open(dir, { logger: silentLogger() });
    try {
      const applier = new Applier(store, new Lessor(2n), new Membership(1n, 1n, []), () => 0, silentLogger());
      let index = 0n;
      // Every entry goes through the Raft payload codec, as on a real member.
      const apply = (envelope: RequestEnvelope) => {
        index += 1n;
        const request: CommittedRequest = { index, envelope: decodeRequest(encodeRequest(envelope)) };
        return applier.applyBatch([request], index).applied[0]!.outcome;
      };
      const auth = (request: Extract<Proposal, { kind: 'auth' }>['request'], actor = ROOT) => apply({ requestId: index + 1n, proposal: { kind: 'auth', request, actor } });
      assert.equal(auth({ op: 'userAdd', name: 'root', passwordHash: 'h', noPassword: false }).ok, true);
      assert.equal(auth({ op: 'roleAdd', name: 'root' }).ok, true);
      assert.equal(auth({ op: 'userGrantRole', user: 'root', role: 'root' }).ok, true);
      assert.equal(auth({ op: 'authEnable' }).ok, true);
      const checkedAt = applier.auth.revision();
      const put = (authRevision: bigint, value: string) =>
        apply({ requestId: index + 1n, proposal: { kind: 'put', put: { key: Buffer.from('k'), value: Buffer.from(value), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } }, actor: { user: 'root', authRevision } });
      assert.equal(put(checkedAt, 'v1').ok, true, 'checked at the current revision: applies');
      // Auth changes between the API's check and the apply (a role revoked, say).
      assert.equal(auth({ op: 'roleAdd', name: 'other' }, { user: 'root', authRevision: checkedAt }).ok, true);
      const stale = put(checkedAt, 'v2');
      assert.equal(stale.ok, false);
      assert.equal(!stale.ok && stale.error.message, 'etcdserver: revision of auth store is old');
      assert.equal(store.range({ key: Buffer.from('k'), rangeEnd: Buffer.alloc(0), limit: 0n, revision: 0n, sortOrder: 0, sortTarget: 0, serializable: true, keysOnly: false, countOnly: false, minModRevision: 0n, maxModRevision: 0n, minCreateRevision: 0n, maxCreateRevision: 0n }).kvs[0]?.value.toString(), 'v1', 'the stale write changed nothing');
      assert.equal(put(applier.auth.revision(), 'v3').ok, true, 'a retry checked at the new revision applies');
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
