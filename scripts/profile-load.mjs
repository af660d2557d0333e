// Reads a V8 .cpuprofile for the profile-*.mjs summaries. SKIP_MS=<ms> leaves out the first
// samples (start-up), so only the benchmark window counts.
import * as fs from 'node:fs';

export function loadProfile(file) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const skipUs = Number(process.env.SKIP_MS ?? 0) * 1000;
  let at = 0;
  let first = 0;
  while (first < profile.samples.length && at < skipUs) at += profile.timeDeltas[first++] ?? 0;
  profile.samples = profile.samples.slice(first);
  profile.timeDeltas = profile.timeDeltas.slice(first);
  return profile;
}
