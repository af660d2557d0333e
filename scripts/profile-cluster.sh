#!/usr/bin/env bash
# Profiles a 3-member latchkey cluster under one benchmark workload:
#   scripts/profile-cluster.sh <dist> <outdir> <benchmark args...>
# KIND=etcd runs real etcd instead (no profile); PROFILE=0 skips --cpu-prof. Either way the
# CPU seconds each member used during the benchmark are printed (from /proc/<pid>/stat).
# e.g. scripts/profile-cluster.sh dist /tmp/prof put --clients 64 --conns 8 --duration 10s --val-size 256
# Every member runs with --cpu-prof; profiles land in <outdir>/<member>/ when the members exit
# (SIGTERM). Open them in Chrome DevTools or summarise with scripts/profile-top.mjs.
set -euo pipefail
dist=$(realpath "$1"); out=$2; shift 2
mkdir -p "$out"; data=$(mktemp -d)
base=$((20000 + RANDOM % 20000))
cluster=""
for i in 0 1 2; do cluster+="m$i=http://127.0.0.1:$((base + 2*i + 1)),"; done
cluster=${cluster%,}
pids=()
for i in 0 1 2; do
  mkdir -p "$out/m$i"
  if [ "${KIND:-latchkey}" = etcd ]; then cmd=(etcd); else cmd=(node); [ "${PROFILE:-1}" = 1 ] && cmd+=(--cpu-prof --cpu-prof-dir="$out/m$i"); cmd+=(bin/latchkey serve); fi
  LATCHKEY_DIST=$dist "${cmd[@]}" --name m$i --data-dir "$data/m$i" \
    --listen-client-urls http://127.0.0.1:$((base + 2*i)) --advertise-client-urls http://127.0.0.1:$((base + 2*i)) \
    --listen-peer-urls http://127.0.0.1:$((base + 2*i + 1)) --initial-advertise-peer-urls http://127.0.0.1:$((base + 2*i + 1)) \
    --initial-cluster "$cluster" --log-level warn > "$out/m$i.log" 2>&1 &
  pids+=($!)
done
endpoints="127.0.0.1:$base,127.0.0.1:$((base + 2)),127.0.0.1:$((base + 4))"
for _ in $(seq 1 100); do
  if ETCDCTL_API=3 etcdctl --endpoints "$endpoints" put /ready x >/dev/null 2>&1; then break; fi
  sleep 0.2
done
cpu() { local t=0; for p in "${pids[@]}"; do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done; echo $t; }
before=$(cpu)
LATCHKEY_DIST=$dist node bin/latchkey benchmark "$@" --endpoints "$endpoints" | tee "$out/bench.txt"
after=$(cpu)
echo "members' CPU during the benchmark: $(( (after - before) * 10 )) ms (all three)" | tee -a "$out/bench.txt"
ETCDCTL_API=3 etcdctl --endpoints "$endpoints" endpoint status -w table | tee "$out/status.txt"
for i in 0 1 2; do
  curl -s "http://127.0.0.1:$((base + 2*i))/metrics" | grep -E "^(etcd_disk_wal_fsync_duration_seconds_count|etcd_disk_backend_commit_duration_seconds_count|etcd_server_proposals_committed_total|etcd_server_is_leader) " | tr '\n' ' ' | sed "s/^/m$i: /" | tee -a "$out/bench.txt"; echo | tee -a "$out/bench.txt"
done
kill -TERM "${pids[@]}"
wait "${pids[@]}" || true
rm -rf "$data"
