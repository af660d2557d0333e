import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberInfo } from '../../src/api/member-port';
import { checkAddVoter, checkRemove, HEALTH_INTERVAL_MS, type ReconfigView } from '../../src/server/reconfig-check';

const NOW = 1_000_000;
const member = (id: bigint, name = `m${id}`, isLearner = false): MemberInfo => ({ id, name, peerUrls: [`http://127.0.0.1:${2380 + Number(id)}`], clientUrls: [], isLearner });

/** Member 1 is this member; `up` gives each peer's link age in ms (undefined = down). */
function view(members: MemberInfo[], up: Record<string, number | undefined>): ReconfigView {
  return { selfId: 1n, members, nowMs: NOW, activeSince: (id) => (up[String(id)] === undefined ? undefined : NOW - up[String(id)]!) };
}

const healthy = { '2': 60_000, '3': 60_000 };

describe('strict reconfiguration check (etcd --strict-reconfig-check)', () => {
  test('a healthy 3-member cluster may remove any member and add a voter', () => {
    const three = [member(1n), member(2n), member(3n)];
    for (const id of [1n, 2n, 3n]) checkRemove(view(three, healthy), id);
    checkAddVoter(view(three, healthy));
  });

  test('removing a live member is refused when the rest would lack a working quorum', () => {
    // m3 was re-added moments ago: its link is younger than the health interval.
    const three = [member(1n), member(2n), member(3n)];
    assert.throws(() => checkRemove(view(three, { '2': 60_000, '3': HEALTH_INTERVAL_MS - 1 }), 2n), { message: 'etcdserver: unhealthy cluster' });
    assert.throws(() => checkRemove(view(three, { '2': 60_000, '3': undefined }), 2n), { message: 'etcdserver: unhealthy cluster' });
  });

  test('a member that is down may be removed (it is not part of the working quorum)', () => {
    const three = [member(1n), member(2n), member(3n)];
    checkRemove(view(three, { '2': 60_000, '3': undefined }), 3n);
  });

  test('members that never started (no name published) do not count', () => {
    const three = [member(1n), member(2n, ''), member(3n, '')];
    assert.throws(() => checkRemove(view(three, healthy), 3n), { message: 'etcdserver: re-configuration failed due to not enough started members' });
    assert.throws(() => checkAddVoter(view(three, healthy)), /not enough started members/);
    assert.throws(() => checkRemove(view([member(1n)], {}), 1n), /not enough started members/, 'the last member cannot remove itself');
  });

  test('adding a voter needs every voter connected for the health interval; a learner never is checked', () => {
    const three = [member(1n), member(2n), member(3n), member(4n, '', true)];
    assert.throws(() => checkAddVoter(view(three, { '2': 60_000, '3': 1_000 })), { message: 'etcdserver: unhealthy cluster' });
    checkRemove(view(three, { '2': 60_000, '3': undefined }), 4n);
    checkAddVoter(view([member(1n)], {}));
  });
});
