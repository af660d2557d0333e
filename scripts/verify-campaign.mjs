// A verification campaign: `latchkey verify` with mixed faults (--faults all) and every
// workload, seeds 1..N, each seed run against every target in turn (latchkey seed 1, etcd
// seed 1, latchkey seed 2, ...). Keeps each run's folder and writes <out>/<date>-campaign.md
// with a side-by-side table per seed and a totals row. Exits 1 if any latchkey run fails.
//
//   node scripts/verify-campaign.mjs --runs 20 --duration 60s [--members 3]
//        [--targets latchkey,etcd] [--out verify-results]
//
// Assumes `npm run build` was done (or LATCHKEY_DIST points at a build).
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKLOADS = 'register,append,watch,lock,election,lease';
const FAULT_KINDS = [
  'kill', 'kill-leader', 'pause', 'partition', 'partition-leader', 'bridge', 'one-way', 'leader-transfer', 'member-change',
  'crash-before-fsync', 'crash-after-fsync', 'crash-after-apply', 'crash-during-snapshot', 'slow-fsync',
];
/** A run taking this much longer than its duration is stopped (SIGTERM, then SIGKILL). */
const RUN_OVERRUN_MS = 5 * 60_000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function usage(message) {
  process.stderr.write(`verify-campaign: ${message}\nusage: node scripts/verify-campaign.mjs --runs N --duration 60s [--members 3] [--targets latchkey,etcd] [--out verify-results]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { runs: 20, duration: '60s', members: 3, targets: ['latchkey', 'etcd'], out: 'verify-results' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) usage(`${flag} needs a value`);
    i++;
    if (flag === '--runs') options.runs = Number(value);
    else if (flag === '--duration') options.duration = value;
    else if (flag === '--members') options.members = Number(value);
    else if (flag === '--targets') options.targets = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    else if (flag === '--out') options.out = value;
    else usage(`unknown option ${flag}`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1 || options.runs > 1000) usage(`--runs must be 1..1000, got ${options.runs}`);
  if (!Number.isInteger(options.members) || options.members < 1 || options.members > 7) usage(`--members must be 1..7`);
  if (!/^\d+(\.\d+)?(ms|s|m)?$/.test(options.duration)) usage(`bad --duration ${options.duration}`);
  if (options.targets.length === 0 || options.targets.some((t) => t !== 'latchkey' && t !== 'etcd')) usage('--targets must list latchkey and/or etcd');
  return options;
}

function durationMs(text) {
  const [, value, unit = 's'] = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  return Number(value) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
}

function clock(ms) {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Runs one `latchkey verify`; resolves with its verdict line, exit code and summary.json. */
function runOne(run, options, onProgress) {
  const args = [
    path.join(root, 'bin', 'latchkey'), 'verify',
    '--members', String(options.members), '--duration', options.duration,
    '--faults', 'all', '--workload', WORKLOADS,
    '--seed', String(run.seed), '--target', run.target, '--out', run.dir,
  ];
  fs.rmSync(run.dir, { recursive: true, force: true });
  fs.mkdirSync(run.dir, { recursive: true });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    child.stdout.on('data', (chunk) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-8192);
      const lines = stderrTail.trim().split('\n');
      onProgress(lines[lines.length - 1] ?? '');
    });
    // The runner kills its members on SIGTERM; SIGKILL only if it does not go.
    const limit = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    }, durationMs(options.duration) + RUN_OVERRUN_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(limit);
      fs.writeFileSync(path.join(run.dir, 'runner-stderr.txt'), stderrTail);
      let summary;
      try {
        summary = JSON.parse(fs.readFileSync(path.join(run.dir, 'summary.json'), 'utf8'));
      } catch {
        summary = undefined;
      }
      const line = stdout.trim().split('\n').pop() ?? '';
      const verdict = summary?.verdict ?? (/^verify: (PASS|FAIL|UNKNOWN)/.exec(line)?.[1] ?? 'ERROR');
      resolve({ ...run, code, signal, line: line || `no verdict (exit ${code ?? signal})`, verdict, summary, command: `node bin/latchkey ${args.slice(1).join(' ')}` });
    });
  });
}

function faultsCell(summary) {
  if (summary === undefined) return '–';
  const injected = summary.faults.injected;
  const total = Object.values(injected).reduce((a, b) => a + b, 0);
  const parts = FAULT_KINDS.filter((k) => injected[k] !== undefined).map((k) => `${k} ${injected[k]}`);
  return `${total}: ${parts.join(', ')}`;
}

function renderMarkdown(state) {
  const { options, results, startedAt, finishedAt, argv, loadStart } = state;
  const targets = options.targets;
  const lines = [];
  const date = startedAt.toISOString().slice(0, 10);
  lines.push(`# latchkey verify campaign — ${date}`, '');
  lines.push(`Command: \`node scripts/verify-campaign.mjs ${argv.join(' ')}\``, '');
  lines.push(`Each run: \`node bin/latchkey verify --members ${options.members} --duration ${options.duration} --faults all --workload ${WORKLOADS} --seed <seed> --target <target> --out <run folder>\``, '');
  lines.push(`- commit ${gitCommit()}, node ${process.version}, ${os.cpus().length} cores, load average at start ${loadStart}${finishedAt ? `, at end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}` : ''}`);
  lines.push(`- started ${startedAt.toISOString()}${finishedAt ? `, finished ${finishedAt.toISOString()} (${clock(finishedAt - startedAt)})` : ' (in progress)'}; ${results.length}/${options.runs * targets.length} runs done`);
  lines.push('- faults: `all` = ' + FAULT_KINDS.join(', ') + "; the five failpoint kinds (crash-*, slow-fsync) run only against latchkey (Debian's etcd has no failpoints)");
  lines.push('- anomalies: every checker violation; lost: acknowledged writes missing afterwards as the append checker names them (a lost register write shows as a linearizability anomaly)', '');
  const header = ['seed'];
  for (const t of targets) header.push(`${t} ops`, `${t} faults injected (by kind)`, `${t} anomalies`, `${t} lost ack. writes`, `${t} verdict`);
  lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
  const seeds = [...new Set(results.map((r) => r.seed))];
  for (const seed of seeds) {
    const row = [String(seed)];
    for (const t of targets) {
      const r = results.find((x) => x.seed === seed && x.target === t);
      if (r === undefined) {
        row.push('', '', '', '', '');
        continue;
      }
      const s = r.summary;
      const verdict = `[${r.verdict}](${path.relative(path.dirname(state.mdPath), path.join(r.dir, 'report.md'))})`;
      row.push(s ? String(s.ops.total) : '–', faultsCell(s), s ? String(s.anomalies) : '–', s ? String(s.lostAcknowledgedWrites) : '–', verdict);
    }
    lines.push(`| ${row.join(' | ')} |`);
  }
  const totals = ['**total**'];
  for (const t of targets) {
    const rs = results.filter((r) => r.target === t);
    const sum = (f) => rs.reduce((n, r) => n + (r.summary ? f(r.summary) : 0), 0);
    const faults = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.summary?.faults.injected ?? {})) faults[k] = (faults[k] ?? 0) + v;
    const verdicts = ['PASS', 'FAIL', 'UNKNOWN', 'ERROR'].map((v) => [v, rs.filter((r) => r.verdict === v).length]).filter(([, n]) => n > 0);
    totals.push(
      `**${sum((s) => s.ops.total)}**`,
      `**${faultsCell({ faults: { injected: faults } })}**`,
      `**${sum((s) => s.anomalies)}**`,
      `**${sum((s) => s.lostAcknowledgedWrites)}**`,
      `**${verdicts.map(([v, n]) => `${n}/${rs.length} ${v}`).join(', ') || '–'}**`,
    );
  }
  lines.push(`| ${totals.join(' | ')} |`, '');
  const bad = results.filter((r) => r.verdict !== 'PASS');
  if (bad.length > 0) {
    lines.push('## Runs that did not pass', '');
    for (const r of bad) lines.push(`- ${r.target} seed ${r.seed}: \`${r.line}\` — folder ${r.dir} (history.json, report.md, logs/)`);
    lines.push('');
  }
  lines.push('Run folders (history.json, report.md, timeline.svg, summary.json, logs/<member>.log):', '');
  for (const r of results) lines.push(`- ${r.target} seed ${r.seed}: ${r.dir}`);
  lines.push('');
  return lines.join('\n');
}

async function main() {
  const argv = process.argv.slice(2);
  const options = parseArgs(argv);
  const startedAt = new Date();
  const date = startedAt.toISOString().slice(0, 10);
  const outDir = path.resolve(options.out);
  const runsDir = path.join(outDir, `${date}-campaign`);
  const mdPath = path.join(outDir, `${date}-campaign.md`);
  fs.mkdirSync(runsDir, { recursive: true });
  const plan = [];
  for (let seed = 1; seed <= options.runs; seed++) {
    for (const target of options.targets) plan.push({ seed, target, dir: path.join(runsDir, `${target}-seed-${seed}`) });
  }
  const state = { options, results: [], startedAt, finishedAt: undefined, argv, mdPath, loadStart: os.loadavg().map((x) => x.toFixed(1)).join(' ') };
  const tty = process.stderr.isTTY === true;
  let lastVerdict = '–';
  let lastPrinted = 0;
  for (let i = 0; i < plan.length; i++) {
    const run = plan[i];
    const head = () => `[run ${i + 1}/${plan.length} ${run.target} seed ${run.seed} | elapsed ${clock(Date.now() - startedAt)} | last: ${lastVerdict}]`;
    process.stderr.write(`${tty ? '\r\x1b[K' : ''}${head()} starting\n`);
    const result = await runOne(run, options, (progress) => {
      if (tty) process.stderr.write(`\r\x1b[K${head()} ${progress.slice(0, 120)}`);
      else if (Date.now() - lastPrinted > 10_000) {
        lastPrinted = Date.now();
        process.stderr.write(`${head()} ${progress}\n`);
      }
    });
    state.results.push(result);
    lastVerdict = `${run.target} seed ${run.seed} ${result.verdict}`;
    process.stderr.write(`${tty ? '\r\x1b[K' : ''}${head()} ${result.line}\n`);
    fs.writeFileSync(mdPath, renderMarkdown(state));
  }
  state.finishedAt = new Date();
  fs.writeFileSync(mdPath, renderMarkdown(state));
  const latchkeyFailed = state.results.filter((r) => r.target === 'latchkey' && (r.verdict === 'FAIL' || r.verdict === 'ERROR'));
  const counts = options.targets.map((t) => {
    const rs = state.results.filter((r) => r.target === t);
    return `${t} ${rs.filter((r) => r.verdict === 'PASS').length}/${rs.length} PASS`;
  });
  process.stdout.write(`verify-campaign: ${counts.join(', ')}; ${latchkeyFailed.length} latchkey run(s) failed -> ${mdPath}\n`);
  process.exitCode = latchkeyFailed.length > 0 ? 1 : 0;
}

main().catch((error) => {
  process.stderr.write(`verify-campaign: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
