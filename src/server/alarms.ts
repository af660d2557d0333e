import { AlarmType, type AlarmMember, type AlarmTypeValue } from '../api/member-port';

/** The LMDB meta entry holding the active alarms (written in the apply transaction). */
export const ALARMS_META = 'alarms';

interface StoredAlarm {
  memberId: string;
  alarm: number;
}

export function encodeAlarms(alarms: readonly AlarmMember[]): Buffer {
  const stored: StoredAlarm[] = alarms.map((a) => ({ memberId: a.memberId.toString(), alarm: a.alarm }));
  return Buffer.from(JSON.stringify(stored));
}

export function decodeAlarms(bytes: Buffer | undefined): AlarmMember[] {
  if (bytes === undefined || bytes.length === 0) return [];
  const stored = JSON.parse(bytes.toString('utf8')) as StoredAlarm[];
  return stored.map((a) => ({ memberId: BigInt(a.memberId), alarm: a.alarm as AlarmTypeValue }));
}

export function alarmName(alarm: AlarmTypeValue): string {
  return alarm === AlarmType.NOSPACE ? 'NOSPACE' : alarm === AlarmType.CORRUPT ? 'CORRUPT' : 'NONE';
}

/**
 * The cluster's active alarms, as every member applied them (etcd's alarm store). Changed
 * only by applied alarm requests, so all members agree on it.
 */
export class ActiveAlarms {
  private alarms: AlarmMember[];

  constructor(initial: readonly AlarmMember[]) {
    this.alarms = [...initial];
  }

  /** Every active alarm of type `alarm` (NONE = all), in activation order. */
  list(alarm: AlarmTypeValue = AlarmType.NONE): AlarmMember[] {
    return this.alarms.filter((a) => alarm === AlarmType.NONE || a.alarm === alarm);
  }

  has(alarm: AlarmTypeValue): boolean {
    return this.alarms.some((a) => a.alarm === alarm);
  }

  /** True when this changed the set. */
  activate(memberId: bigint, alarm: AlarmTypeValue): boolean {
    if (alarm === AlarmType.NONE || this.alarms.some((a) => a.memberId === memberId && a.alarm === alarm)) return false;
    this.alarms.push({ memberId, alarm });
    return true;
  }

  /** True when this changed the set. */
  deactivate(memberId: bigint, alarm: AlarmTypeValue): boolean {
    const before = this.alarms.length;
    this.alarms = this.alarms.filter((a) => !(a.memberId === memberId && a.alarm === alarm));
    return this.alarms.length !== before;
  }

  replaceAll(alarms: readonly AlarmMember[]): void {
    this.alarms = [...alarms];
  }
}
