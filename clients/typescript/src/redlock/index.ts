/**
 * Drop-in replacement for the `redlock` npm package (v5) on latchkey / etcd:
 *   import Redlock, { ExecutionError, ResourceLockedError } from '<latchkey client>/redlock';
 */
export { Redlock, Redlock as default } from './redlock';
export { Lock } from './lock';
export { ExecutionError, ResourceLockedError } from './errors';
export type { ExecutionResult, ExecutionStats, RedlockAbortSignal, Settings } from './settings';
export { EtcdRpc } from './etcd-rpc';
export type { UsingRoutine } from './using';
