#!/usr/bin/env bash
# CPU milliseconds the three members spend per operation, for one benchmark workload:
#   scripts/cpu-per-op.sh <dist> <benchmark args...>      (KIND=etcd for real etcd)
# A steadier figure than ops/s on a shared machine: it does not depend on who else runs.
set -euo pipefail
dist=$1; shift
out=$(mktemp -d)
PROFILE=0 scripts/profile-cluster.sh "$dist" "$out" "$@" > "$out/all.txt" 2>&1 || { cat "$out/all.txt"; exit 1; }
ops=$(awk '/Ops:/{print $2}' "$out/bench.txt")
rps=$(awk '/Requests\/sec:/{print $2}' "$out/bench.txt")
p50=$(awk '/ p50 /{print $2}' "$out/bench.txt")
p99=$(awk '/ p99 /{print $2}' "$out/bench.txt")
cpu=$(awk '/members. CPU/{print $(NF-3)}' "$out/bench.txt")
echo "${KIND:-latchkey} $*: ops=$ops ops/s=$rps p50=${p50}ms p99=${p99}ms cpu/op=$(awk -v c="$cpu" -v o="$ops" 'BEGIN{printf "%.3f", c/o}')ms load=$(cut -d' ' -f1 /proc/loadavg)"
rm -rf "$out"
