import * as bcrypt from 'bcryptjs';
import { Errors } from '../errors';

/** bcrypt runs on the main thread (in slices): at most this many at once, so two cores stay responsive. */
const MAX_CONCURRENT_HASHES = 2;
/** Calls waiting for a slot beyond this are refused with "too many requests". */
const MAX_WAITING_HASHES = 1_024;

let running = 0;
const waiting: Array<() => void> = [];

async function withSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) {
    if (waiting.length >= MAX_WAITING_HASHES) throw Errors.tooManyRequests();
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running += 1;
  }
  try {
    return await work();
  } finally {
    // Hand the slot straight to the next waiter, or give it back.
    const next = waiting.shift();
    if (next !== undefined) next();
    else running -= 1;
  }
}

/** bcrypt, as etcd stores passwords; async so hashing never blocks the event loop for long. */
export function hashPassword(password: string, cost: number): Promise<string> {
  return withSlot(() => bcrypt.hash(password, cost));
}

/** False for a user without a password (its hash is ''). */
export function passwordMatches(password: string, hash: string): Promise<boolean> {
  if (hash === '') return Promise.resolve(false);
  return withSlot(() => bcrypt.compare(password, hash));
}
