import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lessor } from '../../src/lease/lessor';
import { silentLogger } from '../../src/log';
import { LeaseExpiry } from '../../src/server/lease-expiry';
import type { Member } from '../../src/server/member';
import type { Proposal } from '../../src/server/proposal';

/** The leader's side of expiry with timers and clock under the test's control. */
function leaderWithLeases(): { expiry: LeaseExpiry; lessor: Lessor; revoked: bigint[]; advance: (ms: number) => void } {
  let nowMs = 0;
  const lessor = new Lessor(1n);
  const revoked: bigint[] = [];
  const member = {
    lessor,
    isLeader: () => true,
    propose: (proposal: Proposal) => {
      if (proposal.kind === 'leaseRevoke') revoked.push(proposal.leaseId);
      return new Promise(() => undefined); // stays pending: the lease counts as being revoked
    },
  } as unknown as Member;
  const expiry = new LeaseExpiry(member, { nowMs: () => nowMs }, silentLogger());
  const advance = (ms: number): void => {
    for (let step = 0; step < ms; step++) {
      nowMs += 1;
      mock.timers.tick(1);
    }
  };
  return { expiry, lessor, revoked, advance };
}

describe('lease expiry on the leader', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval'] }));
  afterEach(() => mock.timers.reset());

  test('a lease is revoked at its deadline, not at the next 500 ms tick after it', () => {
    const { expiry, lessor, revoked, advance } = leaderWithLeases();
    lessor.grant(7n, 2n, 0);
    lessor.promote(0, 200); // deadline 2200 ms: between etcd's 500 ms checks at 2000 and 2500
    expiry.start();
    advance(2199);
    assert.deepEqual(revoked, [], 'not before its deadline');
    advance(1);
    assert.deepEqual(revoked, [7n], 'at its deadline');
    advance(2000);
    assert.deepEqual(revoked, [7n], 'proposed once while its revocation is pending');
    expiry.stop();
  });

  test('a lease renewed before its deadline is not revoked, and one granted later is revoked at its own', () => {
    const { expiry, lessor, revoked, advance } = leaderWithLeases();
    lessor.grant(7n, 2n, 0);
    lessor.promote(0, 0);
    expiry.start();
    advance(1500);
    lessor.renew(7n, 1500); // new deadline 3500
    lessor.grant(8n, 1n, 1500); // deadline 2500
    advance(999);
    assert.deepEqual(revoked, []);
    advance(1);
    assert.deepEqual(revoked, [8n]);
    advance(1000);
    assert.deepEqual(revoked, [8n, 7n]);
    expiry.stop();
  });
});
