#!/usr/bin/env bash
# A/B of two builds (or a build and etcd) under one benchmark workload, for changes whose
# effect is smaller than this machine's drift between runs minutes apart:
#   scripts/ab-clusters.sh <A> <B> <rounds> <benchmark args...>
# A and B are dist directories, or the word "etcd" for /usr/bin/etcd (NODE_FLAGS_A / NODE_FLAGS_B
# add node flags to that side's members, e.g. NODE_FLAGS_B=--max-semi-space-size=32). Both 3-member clusters
# run side by side for the whole comparison; each is warmed up with the workload (WARMUP_SECONDS, 30), then
# the benchmark alternates A, B, A, B, ... (<rounds> pairs, the order flipped every pair) and
# the members' CPU per operation is read from /proc for each run. Prints one line per run
# and the medians; nothing is asserted.
# e.g. scripts/ab-clusters.sh /tmp/base/dist dist 6 put --clients 64 --conns 8 --duration 4s --val-size 256
set -euo pipefail
a=$1; b=$2; rounds=$3; shift 3
data=$(mktemp -d)
declare -A endpoints pids
# shellcheck source=lib/cluster.sh
source "$(dirname "$0")/lib/cluster.sh"
start_cluster() { # <label> <target> <base port>
  local label=$1 target=$2 base=$3
  local flags_var="NODE_FLAGS_$label"
  # shellcheck disable=SC2206 # the flags are meant to split on spaces
  local flags=(${!flags_var:-})
  member_command "$target" "${flags[@]}"
  start_cluster3 "$label" "$base" "$data" "$data" "${MEMBER_COMMAND[@]}"
  pids[$label]="${CLUSTER_PIDS[*]}"
  endpoints[$label]=$CLUSTER_ENDPOINTS
}
cleanup() { kill -TERM ${pids[A]:-} ${pids[B]:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
base=$((20000 + RANDOM % 20000))
start_cluster A "$a" "$base"
start_cluster B "$b" "$((base + 10))"
for label in A B; do
  wait_for_cluster "${endpoints[$label]}" || { echo "cluster $label did not start; logs in $data" >&2; exit 1; }
done
cpu() { local t=0 p; for p in $1; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
# "steal total" jiffies of the machine (/proc/stat): the hypervisor's share skews a round.
machine_cpu() { awk '/^cpu /{t=0; for (i=2; i<=9; i++) t+=$i; print $9, t}' /proc/stat; }
run() { # <label>: one benchmark run, prints "ops/s cpu-ms-per-op p50 p99 steal%"
  local label=$1 before after out ops rps m0 m1
  shift
  before=$(cpu "${pids[$label]}"); m0=$(machine_cpu)
  out=$(node bin/latchkey benchmark "$@" --endpoints "${endpoints[$label]}" 2>/dev/null)
  after=$(cpu "${pids[$label]}"); m1=$(machine_cpu)
  ops=$(awk '/Ops:/{print $2}' <<< "$out"); rps=$(awk '/Requests\/sec:/{print $2}' <<< "$out")
  p50=$(awk '/ p50 /{print $2}' <<< "$out"); p99=$(awk '/ p99 /{print $2}' <<< "$out")
  awk -v r="$rps" -v c="$(( (after - before) * 10 ))" -v o="$ops" -v p="$p50" -v q="$p99" -v m0="$m0" -v m1="$m1" \
    'BEGIN{split(m0, a, " "); split(m1, b, " "); s = b[2] > a[2] ? 100 * (b[1] - a[1]) / (b[2] - a[2]) : 0; printf "%s %.3f %s %s %.1f\n", r, c/o, p, q, s}'
}
bench=("$@")
warm=()
skip=0
for arg in "${bench[@]}"; do
  if [ $skip = 1 ]; then skip=0; continue; fi
  case $arg in --duration|--total) skip=1 ;; --duration=*|--total=*) ;; *) warm+=("$arg") ;; esac
done
# New latchkey members run slower until V8 has compiled their hot paths (~30 s of load).
warmup=${WARMUP_SECONDS:-30}
echo "warming up both clusters (${warmup} s each) ..." >&2
node bin/latchkey benchmark "${warm[@]}" --duration "${warmup}s" --endpoints "${endpoints[A]}" >/dev/null 2>&1 || true
node bin/latchkey benchmark "${warm[@]}" --duration "${warmup}s" --endpoints "${endpoints[B]}" >/dev/null 2>&1 || true
resA=(); resB=()
for r in $(seq 1 "$rounds"); do
  order="A B"; [ $((r % 2)) = 0 ] && order="B A"
  for label in $order; do
    line=$(run "$label" "${bench[@]}")
    echo "round $r $label: $line (ops/s, members' CPU ms/op, p50 ms, p99 ms, CPU stolen %)" >&2
    if [ "$label" = A ]; then resA+=("$line"); else resB+=("$line"); fi
  done
done
median() { sort -n | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
mA=$(printf '%s\n' "${resA[@]}" | awk '{print $1}' | median); mB=$(printf '%s\n' "${resB[@]}" | awk '{print $1}' | median)
cA=$(printf '%s\n' "${resA[@]}" | awk '{print $2}' | median); cB=$(printf '%s\n' "${resB[@]}" | awk '{print $2}' | median)
echo "| | A: $a | B: $b | B/A |"
echo "|---|---:|---:|---:|"
awk -v a="$mA" -v b="$mB" 'BEGIN{printf "| ops/s (median of runs) | %s | %s | %.2f× |\n", a, b, b/a}'
awk -v a="$cA" -v b="$cB" 'BEGIN{printf "| members CPU ms/op (median) | %s | %s | %.2f× |\n", a, b, b/a}'
lA=$(printf '%s\n' "${resA[@]}" | awk '{print $3}' | median); lB=$(printf '%s\n' "${resB[@]}" | awk '{print $3}' | median)
awk -v a="$lA" -v b="$lB" 'BEGIN{printf "| p50 latency ms (median) | %s | %s | %.2f× |\n", a, b, b/a}'
qA=$(printf '%s\n' "${resA[@]}" | awk '{print $4}' | median); qB=$(printf '%s\n' "${resB[@]}" | awk '{print $4}' | median)
awk -v a="$qA" -v b="$qB" 'BEGIN{printf "| p99 latency ms (median) | %s | %s | %.2f× |\n", a, b, b/a}'
