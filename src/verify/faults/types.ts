/**
 * Fault kinds `--faults` accepts. The last five drive latchkey's env-gated failpoints
 * (src/failpoints.ts): they exist only for latchkey members.
 */
export const NETWORK_AND_PROCESS_FAULT_KINDS = ['kill', 'kill-leader', 'pause', 'partition', 'partition-leader', 'bridge', 'one-way', 'leader-transfer', 'member-change'] as const;
export const FAILPOINT_FAULT_KINDS = ['crash-before-fsync', 'crash-after-fsync', 'crash-after-apply', 'crash-during-snapshot', 'slow-fsync'] as const;
export const FAULT_KINDS = [...NETWORK_AND_PROCESS_FAULT_KINDS, ...FAILPOINT_FAULT_KINDS] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type FailpointFaultKind = (typeof FAILPOINT_FAULT_KINDS)[number];

export function isFailpointFault(kind: FaultKind): kind is FailpointFaultKind {
  return (FAILPOINT_FAULT_KINDS as readonly string[]).includes(kind);
}

/** Why the failpoint faults are skipped against etcd (said once in the progress and the report). */
export const FAILPOINTS_UNAVAILABLE_ON_ETCD = "not available on etcd: no failpoints in Debian's build";

/** One fault as it happened: for the report and the timeline's shaded bands. */
export interface FaultEvent {
  kind: FaultKind;
  /** Human description: which members, which links. */
  detail: string;
  startMs: number;
  /** When healed (the end of the run for faults healed by the final heal). */
  endMs: number;
  /** Set when the fault could not be applied (e.g. no leader to kill). */
  skipped?: string;
}

export function parseFaults(spec: string): FaultKind[] {
  if (spec.trim() === '' || spec === 'none') return [];
  const kinds = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const expanded: FaultKind[] = [];
  for (const kind of kinds) {
    if (kind === 'all') {
      expanded.push(...FAULT_KINDS);
      continue;
    }
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown fault '${kind}' (known: ${FAULT_KINDS.join(', ')}, all, none)`);
    expanded.push(kind as FaultKind);
  }
  return [...new Set(expanded)];
}
