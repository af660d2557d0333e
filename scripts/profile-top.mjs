// Summarises a V8 .cpuprofile: self time per function (top N) and per file.
//   node scripts/profile-top.mjs <file.cpuprofile> [N]
import { loadProfile } from './profile-load.mjs';
const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 30);
const profile = loadProfile(file);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
}
const fnTotals = new Map();
const fileTotals = new Map();
let total = 0;
for (const [id, us] of self) {
  const node = byId.get(id);
  const cf = node.callFrame;
  const where = cf.url.replace(/^.*\/(node_modules\/[^/]+|dist\/src|src)\//, '$1/');
  const key = `${cf.functionName || '(anon)'} ${where}:${cf.lineNumber + 1}`;
  fnTotals.set(key, (fnTotals.get(key) ?? 0) + us);
  fileTotals.set(where || cf.functionName, (fileTotals.get(where || cf.functionName) ?? 0) + us);
  total += us;
}
const show = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).forEach(([k, us]) => console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`));
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
console.log('--- by function'); show(fnTotals, top);
console.log('--- by file'); show(fileTotals, top);
