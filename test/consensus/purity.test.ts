import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../../src/paths';

test('the Raft core imports only its own files and uses no clock or Math.random', () => {
  const dir = path.join(projectRoot(), 'src', 'consensus');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10);
  for (const file of files) {
    const source = fs.readFileSync(path.join(dir, file), 'utf8');
    const specifiers = [...source.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    for (const spec of specifiers) assert.match(spec, /^\.\/[\w.-]+$/, `${file} imports ${spec}`);
    assert.doesNotMatch(source, /Math\.random|Date\.now|new Date\(|setTimeout|setInterval|process\./, `${file} uses time, randomness or process`);
  }
});
