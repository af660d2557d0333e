#!/usr/bin/env bash
# Profiles a 3-member latchkey cluster under one benchmark workload:
#   scripts/profile-cluster.sh <dist> <outdir> <benchmark args...>
# KIND=etcd runs real etcd instead (no profile); PROFILE=0 skips --cpu-prof; PROF_INTERVAL=<µs>
# sets the sampling interval; WARMUP=<duration> runs the workload that long first. Either way the
# CPU seconds each member used during the benchmark are printed (from /proc/<pid>/stat).
# e.g. scripts/profile-cluster.sh dist /tmp/prof put --clients 64 --conns 8 --duration 10s --val-size 256
# Every member runs with --cpu-prof; profiles land in <outdir>/<member>/ when the members exit
# (SIGTERM). Open them in Chrome DevTools or summarise with scripts/profile-top.mjs.
set -euo pipefail
dist=$(realpath "$1"); out=$2; shift 2
mkdir -p "$out"; data=$(mktemp -d)
base=$((20000 + RANDOM % 20000))
# shellcheck source=lib/cluster.sh
source "$(dirname "$0")/lib/cluster.sh"
for i in 0 1 2; do mkdir -p "$out/m$i"; done
if [ "${KIND:-latchkey}" = etcd ]; then cmd=(etcd); else cmd=(env LATCHKEY_DIST="$dist" node); [ "${PROFILE:-1}" = 1 ] && cmd+=(--cpu-prof "--cpu-prof-dir=$out/{name}" ${PROF_INTERVAL:+--cpu-prof-interval $PROF_INTERVAL}); cmd+=(bin/latchkey serve); fi
pids=()
# The members are stopped however the script ends (set -e exits on the first failure).
cleanup() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
start_cluster3 m "$base" "$data" "$out" "${cmd[@]}"
pids=("${CLUSTER_PIDS[@]}")
endpoints=$CLUSTER_ENDPOINTS
wait_for_cluster "$endpoints" || { echo "cluster did not start; logs in $out" >&2; exit 1; }
cpu() { local t=0; for p in "${pids[@]}"; do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done; echo $t; }
# WARMUP=<duration>: the same workload that long first, unmeasured (V8 compiles for ~30 s of load).
if [ -n "${WARMUP:-}" ]; then LATCHKEY_DIST=$dist node bin/latchkey benchmark "$@" --endpoints "$endpoints" --duration "$WARMUP" > /dev/null 2>&1; fi
before=$(cpu)
LATCHKEY_DIST=$dist node bin/latchkey benchmark "$@" --endpoints "$endpoints" | tee "$out/bench.txt"
after=$(cpu)
echo "members' CPU during the benchmark: $(( (after - before) * 10 )) ms (all three)" | tee -a "$out/bench.txt"
ETCDCTL_API=3 etcdctl --endpoints "$endpoints" endpoint status -w table | tee "$out/status.txt"
for i in 0 1 2; do
  curl -s "http://127.0.0.1:$((base + 2*i))/metrics" | grep -E "^(etcd_disk_wal_fsync_duration_seconds_count|etcd_disk_backend_commit_duration_seconds_count|etcd_server_proposals_committed_total|etcd_server_is_leader) " | tr '\n' ' ' | sed "s/^/m$i: /" | tee -a "$out/bench.txt"; echo | tee -a "$out/bench.txt"
done
