import type { RequestContext } from '../api/member-port';

/** Registers an ender to run when the server stops; returns its unregister function (OpenStreams.add). */
export type StopRegistry = (end: () => void) => () => void;

export interface StoppableContext {
  /** Aborts when the client goes away or the server stops. */
  ctx: RequestContext;
  /** Whether the abort came from the server stopping (answer "server stopped", not "canceled"). */
  stopped(): boolean;
  /** Unregisters from the stop registry; call once the request is answered. */
  release(): void;
}

/**
 * A context for requests that wait without bound (Lock, Campaign, Observe): besides the
 * client's cancel/deadline, a server shutdown ends the wait, so a graceful stop is not held
 * up by a lock queue, and the waiter's key is cleaned up on the way out.
 */
export function stoppableContext(ctx: RequestContext, register: StopRegistry): StoppableContext {
  const controller = new AbortController();
  let stoppedByServer = false;
  const onClientAbort = (): void => controller.abort();
  if (ctx.signal.aborted) controller.abort();
  else ctx.signal.addEventListener('abort', onClientAbort, { once: true });
  const unregister = register(() => {
    stoppedByServer = true;
    controller.abort();
  });
  return {
    ctx: { signal: controller.signal, requireLeader: ctx.requireLeader },
    stopped: () => stoppedByServer,
    release: () => {
      unregister();
      ctx.signal.removeEventListener('abort', onClientAbort);
    },
  };
}
