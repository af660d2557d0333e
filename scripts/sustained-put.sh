#!/usr/bin/env bash
# Put latency as one cluster keeps taking writes: whether p99 holds or climbs as the store grows.
#   scripts/sustained-put.sh <dist|etcd> [rounds] [benchmark args...]
# Starts a 3-member cluster (dist directory, or "etcd" for /usr/bin/etcd), warms it with 20 s of
# puts, then runs <rounds> (default 20) back-to-back 8 s put runs (64 clients, 100,000 keys,
# 256-byte values unless overridden) and prints one table row per run: seconds of load so far,
# ops/s, p50, p99 and p99.9. bench:compare measures each row ~40 s into a cluster's life; this
# shows minutes. Nothing is asserted. e.g. scripts/sustained-put.sh etcd; scripts/sustained-put.sh dist
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/cluster.sh
source scripts/lib/cluster.sh
target=$1; rounds=${2:-20}; shift $(( $# >= 2 ? 2 : 1 ))
member_command "$target"
data=$(mktemp -d); base=$((20000 + RANDOM % 20000))
start_cluster3 S "$base" "$data" "$data" "${MEMBER_COMMAND[@]}"
pids=("${CLUSTER_PIDS[@]}")
cleanup() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
wait_for_cluster "$CLUSTER_ENDPOINTS" || { echo "cluster did not start; logs in $data" >&2; exit 1; }
load=(put --clients 64 --conns 8 --key-space-size 100000 --val-size 256 "$@" --endpoints "$CLUSTER_ENDPOINTS")
started=$(date +%s)
echo "warming up: 20 s of puts" >&2
node bin/latchkey benchmark "${load[@]}" --duration 20s > /dev/null 2>&1
printf '| %-6s | %5s | %7s | %6s | %6s | %6s |\n' round "at s" "ops/s" p50 p99 p99.9
printf '|--------|------:|--------:|-------:|-------:|-------:|\n'
for round in $(seq 1 "$rounds"); do
  at=$(( $(date +%s) - started ))
  out=$(node bin/latchkey benchmark "${load[@]}" --warmup 2s --duration 8s 2>/dev/null)
  echo "$out" | awk -v r="$round" -v at="$at" '/Requests\/sec/ {o=$2} / p50 / {p50=$2} / p99 / {p99=$2} / p99.9 / {p999=$2}
    END {printf "| %-6s | %5s | %7.0f | %6.1f | %6.1f | %6.1f |\n", r "/" '"$rounds"', at, o, p50, p99, p999}'
done
