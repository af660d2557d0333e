import * as fs from 'node:fs';
import * as path from 'node:path';

let cachedRoot: string | undefined;

/** The folder holding latchkey's package.json, wherever the build output lives. */
export function projectRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = __dirname;
  for (let depth = 0; depth < 10; depth++) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'latchkey') {
        cachedRoot = dir;
        return dir;
      }
    }
    dir = path.dirname(dir);
  }
  throw new Error(`latchkey package.json not found above ${__dirname}`);
}

export function protoDir(): string {
  return path.join(projectRoot(), 'proto');
}
