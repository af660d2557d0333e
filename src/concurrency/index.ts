export { ServerMutex, type HeldLock } from './mutex';
export { ServerElection, type Campaigned, type CurrentLeader, type LeaderKey } from './election';
export { type LeaderSink } from './observe-leader';
export { leaseHex, prefixEnd, queueKey, queuePrefix } from './keys';
export { asEmbeddedClientError } from './request-errors';
export { stoppableContext, type StopRegistry, type StoppableContext } from './stoppable-context';
