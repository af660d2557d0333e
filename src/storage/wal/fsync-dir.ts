import * as fs from 'node:fs/promises';

/** Makes a create, rename or unlink in `dir` durable (POSIX needs the directory fsync'ed). */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
