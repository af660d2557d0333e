// Who calls a function in a V8 .cpuprofile: self time of nodes named NAME, grouped by their
// caller chain (up to DEPTH frames).   node scripts/profile-callers.mjs <file> <NAME> [DEPTH]
import { loadProfile } from './profile-load.mjs';
const [file, name, depthArg] = process.argv.slice(2);
const depth = Number(depthArg ?? 4);
const profile = loadProfile(file);
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const chains = new Map();
for (const [id, us] of self) {
  const node = byId.get(id);
  if (node.callFrame.functionName !== name) continue;
  const chain = [];
  let p = parent.get(id);
  while (p !== undefined && chain.length < depth) {
    const cf = byId.get(p).callFrame;
    chain.push(`${cf.functionName || '(anon)'}@${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`);
    p = parent.get(p);
  }
  const key = chain.join(' < ');
  chains.set(key, (chains.get(key) ?? 0) + us);
}
[...chains].sort((a, b) => b[1] - a[1]).slice(0, 12).forEach(([k, us]) => console.log(`${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`));
