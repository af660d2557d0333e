// npm run cluster: a local 3-member latchkey cluster on loopback, laid out like etcd's
// Procfile (clients on 2379/22379/32379, peers on 2380/22380/32380). Each member's log
// lines are prefixed with its name; Ctrl-C stops all three (SIGTERM, by PID).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(import.meta.dirname, '..');
const dataRoot = resolve(process.env.LATCHKEY_CLUSTER_DIR ?? 'cluster.latchkey');
const members = [
  { name: 'infra1', client: 2379, peer: 2380, color: 36 },
  { name: 'infra2', client: 22379, peer: 22380, color: 33 },
  { name: 'infra3', client: 32379, peer: 32380, color: 35 },
];
const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
const levels = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One readable line from a pino JSON line: time, level, component, message, the rest. */
function pretty(line) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  const { time, level, msg, member: _member, component, ...rest } = entry;
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  return `${clock} ${levels[level] ?? level} ${component ? `[${component}] ` : ''}${msg ?? ''}${extra}`;
}

const children = members.map((m) => {
  const dataDir = join(dataRoot, m.name);
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(process.execPath, [join(root, 'bin', 'latchkey'), 'serve',
    '--name', m.name,
    '--data-dir', dataDir,
    '--listen-client-urls', `http://127.0.0.1:${m.client}`,
    '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
    '--listen-peer-urls', `http://127.0.0.1:${m.peer}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
    '--initial-cluster-token', 'etcd-cluster-1',
    '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new',
    ...process.argv.slice(2),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `\x1b[${m.color}m${m.name.padEnd(6)} |\x1b[0m `;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix}${pretty(line)}\n`));
  }
  child.on('exit', (code, signal) => process.stdout.write(`${prefix}exited (${signal ?? code})\n`));
  return child;
});

process.stdout.write(`latchkey cluster: ${members.map((m) => `${m.name} 127.0.0.1:${m.client}`).join(', ')}; data in ${dataRoot}\n`);
process.stdout.write(`try: ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379 endpoint status -w table\n`);

let stopping = false;
const stopAll = () => {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) process.kill(child.pid, 'SIGTERM');
};
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
let alive = children.length;
for (const child of children) child.on('exit', () => {
  alive -= 1;
  if (alive === 0) process.exit(0);
});
