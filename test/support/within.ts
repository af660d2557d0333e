/** What `within` rejects with, so a caller that tolerates other errors can still fail on a hang. */
export class NotWithin extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`${what}: not settled within ${timeoutMs} ms (hang)`);
    this.name = 'NotWithin';
  }
}

/** Rejects when `promise` has not settled within `timeoutMs`: a bound on an awaited event, so a hang fails instead of stalling the suite. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NotWithin(what, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
