import { createRootLogger } from '../log';
import type { MemberConfig } from '../server/config';
import { buildMember, type RunningMember } from '../server/composition-root';

/**
 * Runs one member until SIGTERM/SIGINT: then it stops accepting clients, lets the fsync in
 * flight finish, closes LMDB and exits 0.
 */
export async function runServe(config: MemberConfig): Promise<void> {
  const logger = createRootLogger(config.logLevel, config.name);
  let running: RunningMember | undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    if (running === undefined) process.exit(0);
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
  running = await buildMember(config, logger, {
    onFatal: (err) => {
      logger.fatal({ err }, 'member failed');
      process.exit(1);
    },
    onRemoved: () => stop('removed from the cluster'),
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
