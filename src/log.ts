import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The root logger. Components take a child of it (`logger.child({ component: 'wal' })`)
 * through their constructor; nothing else in src/ writes to stdout or stderr.
 */
export function createRootLogger(level: string, name?: string): Logger {
  return pino({ level, base: name ? { member: name } : {}, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that drops everything: for tests that build components by hand. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
