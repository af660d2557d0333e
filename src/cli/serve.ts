import { createRootLogger } from '../log';
import type { MemberConfig } from '../server/config';
import { buildMember } from '../server/composition-root';

/**
 * Runs one member until SIGTERM/SIGINT: then it stops accepting clients, lets the fsync in
 * flight finish, closes LMDB and exits 0.
 */
export async function runServe(config: MemberConfig): Promise<void> {
  const logger = createRootLogger(config.logLevel, config.name);
  const running = await buildMember(config, logger);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    running
      .stop()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
