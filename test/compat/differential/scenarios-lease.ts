import { Scenario, del, get, grant, keepAlive, lease, leases, put, revoke, timeToLive, wCreate, wOpen, wRecv } from './scenario';

/** Leases (facts §10). Every lease granted in a scenario is revoked by the runner afterwards. */
export const leaseScenarios: Scenario[] = [
  {
    name: 'TTL below the minimum is raised to 2 s; grant does not change the revision',
    steps: [grant(1), grant(0), grant(-5), grant(2), grant(3), get('x')],
  },
  {
    name: 'explicit IDs: used as given (also negative); a duplicate fails',
    steps: [grant(30, 7_000_001), grant(30, 7_000_001), grant(30, -7_000_002), timeToLive(-7_000_002), revoke(-7_000_002), revoke(7_000_001)],
  },
  {
    name: 'TTL above 9e9 s is too large; exactly 9e9 is accepted',
    steps: [grant('9000000001'), grant('9000000000'), timeToLive(lease(0))],
  },
  {
    name: 'TimeToLive lists attached keys; unknown lease → TTL -1 without error',
    steps: [
      grant(60), put('a', '1', { lease: lease(0) }), put('b', '2', { lease: lease(0) }),
      timeToLive(lease(0), true), timeToLive(lease(0), false), timeToLive(8_000_123, true),
    ],
  },
  {
    name: 'revoke deletes every attached key in one revision',
    steps: [
      grant(60), put('a', '1', { lease: lease(0) }), put('b', '2', { lease: lease(0) }), put('c', 'kept'),
      revoke(lease(0)), get('a', { range_end: 'z' }), timeToLive(lease(0)), put('after'),
    ],
  },
  {
    name: 'revoke of a lease without keys keeps the revision; unknown lease or 0 → not found',
    steps: [grant(60), revoke(lease(0)), revoke(lease(0)), revoke(0), revoke(8_000_456), put('after')],
  },
  {
    name: 'keepalive answers with the granted TTL; an unknown lease gets TTL 0',
    steps: [grant(40), keepAlive(lease(0)), keepAlive(8_000_789), revoke(lease(0)), keepAlive(lease(0))],
  },
  {
    name: 'LeaseLeases lists live leases',
    steps: [grant(60), grant(60), grant(60), revoke(lease(1)), leases()],
  },
  {
    name: 'put with an unknown lease → requested lease not found',
    steps: [put('a', 'v', { lease: 8_001_000 }), get('a')],
  },
  {
    name: 'a plain put detaches the key from its lease; putting with another lease moves it',
    steps: [
      grant(60), grant(60),
      put('a', '1', { lease: lease(0) }), put('b', '1', { lease: lease(0) }),
      put('a', '2'),
      put('b', '2', { lease: lease(1) }),
      timeToLive(lease(0), true), timeToLive(lease(1), true),
      revoke(lease(0)), get('a', { range_end: 'c' }),
    ],
  },
  {
    name: 'deleting a leased key removes it from the lease',
    steps: [grant(60), put('a', '1', { lease: lease(0) }), del('a'), timeToLive(lease(0), true), revoke(lease(0)), put('after')],
  },
  {
    name: 'an expired lease deletes its keys with DELETE events; TimeToLive then says -1',
    timeoutMs: 30_000,
    steps: [
      grant(2), put('exp', 'v', { lease: lease(0) }),
      wOpen(), wCreate('exp', { prev_kv: true }), wRecv(1),
      wRecv(1, { timeoutMs: 10_000 }),
      get('exp'), timeToLive(lease(0), true), keepAlive(lease(0)),
    ],
  },
];
