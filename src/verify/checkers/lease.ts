import type { CheckResult, LeaseHistory } from '../history';
import { checkResult, ViolationSink } from './result';

/**
 * In the final snapshot: no key is still attached to a lease that expired or was revoked,
 * and every key of a kept-alive lease is present and still attached to that lease.
 */
export function checkLease(history: LeaseHistory): CheckResult {
  const sink = new ViolationSink('lease');
  let expired = 0;
  let keptAlive = 0;
  for (const lease of history.leases) {
    if (lease.keptAlive && lease.expiredAtMs !== undefined) {
      throw new Error(`lease ${lease.leaseId} cannot be both kept alive and expired`);
    }
    if (lease.keptAlive) {
      keptAlive++;
      for (const key of lease.keys) {
        const found = history.finalKeys[key];
        if (found === undefined) sink.add(`key ${JSON.stringify(key)} of kept-alive lease ${lease.leaseId} vanished`);
        else if (found.lease !== lease.leaseId) {
          sink.add(`key ${JSON.stringify(key)} of kept-alive lease ${lease.leaseId} is now attached to lease ${found.lease}`);
        }
      }
    } else if (lease.expiredAtMs !== undefined) {
      expired++;
      for (const key of lease.keys) {
        const found = history.finalKeys[key];
        if (found !== undefined && found.lease === lease.leaseId) {
          sink.add(`key ${JSON.stringify(key)} of lease ${lease.leaseId}, expired at ${lease.expiredAtMs} ms, is still present`);
        }
      }
    }
  }
  const stats = {
    leases: history.leases.length,
    leasesExpired: expired,
    leasesKeptAlive: keptAlive,
    finalKeys: Object.keys(history.finalKeys).length,
    violationsDropped: sink.dropped,
  };
  return checkResult('lease', sink.violations, stats);
}
