import type { RaftLogger } from '../consensus';
import type { Logger } from '../log';

/** Node ids are uint64: JSON numbers would round them, so they are logged as hex, as etcd does. */
function readable(fields: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'bigint') out[name] = name === 'term' || name.endsWith('index') || name.endsWith('Index') ? value.toString() : value.toString(16);
    else if (Array.isArray(value)) out[name] = value.map((v: unknown) => (typeof v === 'bigint' ? v.toString(16) : typeof v === 'string' && /^\d{6,}$/.test(v) ? BigInt(v).toString(16) : v));
    else out[name] = value;
  }
  return out;
}

/** The Raft core's logger on top of the member's pino logger. */
export function raftLogger(logger: Logger): RaftLogger {
  return {
    debug: (fields, msg) => logger.debug(readable(fields), msg),
    info: (fields, msg) => logger.info(readable(fields), msg),
    warn: (fields, msg) => logger.warn(readable(fields), msg),
  };
}
