import * as fs from 'node:fs';

/**
 * How much CPU time the hypervisor took from this VM ("steal" in /proc/stat). On a shared
 * 2-core VM it moved between 0 and ~30 % within one session, which skews every figure of a
 * run; the results file states it so a reader can tell a quiet run from a noisy one.
 */
export interface CpuTimes {
  /** Jiffies stolen by the hypervisor, all CPUs. */
  steal: number;
  /** Jiffies of every kind, all CPUs. */
  total: number;
}

/** The aggregate `cpu` line of /proc/stat; undefined when the text has none. */
export function parseCpuTimes(procStat: string): CpuTimes | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  // user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return undefined;
  return { steal: fields[7]!, total: fields.reduce((sum, n) => sum + n, 0) };
}

/** This machine's CPU times now; undefined off Linux. */
export function readCpuTimes(): CpuTimes | undefined {
  try {
    return parseCpuTimes(fs.readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Percentage of the machine's CPU time stolen between two readings (NaN if unknown). */
export function stealPercent(before: CpuTimes | undefined, after: CpuTimes | undefined): number {
  if (before === undefined || after === undefined || after.total <= before.total) return Number.NaN;
  return (100 * (after.steal - before.steal)) / (after.total - before.total);
}
