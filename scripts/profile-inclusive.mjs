// Inclusive time per function (counted once per sample) in a V8 .cpuprofile, top N, excluding
// (idle)/(program)/(garbage collector) roots.  node scripts/profile-inclusive.mjs <file> [N] [filter]
import { loadProfile } from './profile-load.mjs';
const [file, topArg, filter] = process.argv.slice(2);
const top = Number(topArg ?? 40);
const profile = loadProfile(file);
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const label = (cf) => `${cf.functionName || '(anon)'} ${cf.url.replace(/^.*\/(node_modules\/[^/]+|dist\/src|\.build\/[^/]+\/src|src)\//, '$1/')}:${cf.lineNumber + 1}`;
const incl = new Map();
let busy = 0;
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  const name = byId.get(id).callFrame.functionName;
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return;
  busy += us;
  const seen = new Set();
  for (let p = id; p !== undefined; p = parent.get(p)) {
    const key = label(byId.get(p).callFrame);
    if (seen.has(key)) continue;
    seen.add(key);
    incl.set(key, (incl.get(key) ?? 0) + us);
  }
});
console.log(`busy (JS + native, excl. idle/program/gc): ${(busy / 1000).toFixed(0)} ms`);
[...incl].filter(([k]) => filter === undefined || k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top)
  .forEach(([k, us]) => console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`));
