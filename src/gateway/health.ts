import { rangeRequestFromWire } from '../api/codec/kv-requests';
import { AlarmAction, AlarmType, type MemberPort } from '../api/member-port';

/** How long /health waits for its quorum read. */
export const HEALTH_TIMEOUT_MS = 1000;

/**
 * etcd 3.4's /health: unhealthy with an active alarm or without a leader; otherwise a
 * linearizable read must complete within a second (it needs a quorum).
 */
export async function memberIsHealthy(member: MemberPort): Promise<boolean> {
  const ctx = { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS), requireLeader: true };
  try {
    const alarms = await member.maintenance.alarm(AlarmAction.GET, 0n, AlarmType.NONE, ctx);
    if (alarms.length > 0) return false;
    const status = await member.maintenance.status(ctx);
    if (status.result.leader === 0n) return false;
    await member.kv.range(rangeRequestFromWire({ key: Buffer.from('health') }), ctx);
    return true;
  } catch {
    return false;
  }
}
