#!/usr/bin/env bash
# Members' CPU per operation, per member and split main thread / other threads, for one or more
# benchmark workloads run one after another on the same 3-member cluster:
#   scripts/cpu-per-member.sh <dist|etcd> "<workload args>" ["<workload args>" ...]
# e.g. scripts/cpu-per-member.sh dist "put --clients 1 --conns 1 --duration 6s --val-size 256"
# Each workload first runs 2 s unmeasured. Per member the line shows its role (L/F) and
# "main+other" ms of CPU per operation (/proc/<pid>/task/*/stat, user + system); with
# --conns 1 the client talks to the first member only. Nothing is asserted.
set -uo pipefail
cd "$(dirname "$0")/.."
target=$1; shift
data=$(mktemp -d); base=$((20000 + RANDOM % 20000)); pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
# shellcheck source=lib/cluster.sh
source scripts/lib/cluster.sh
member_command "$target"
start_cluster3 m "$base" "$data" "$data" "${MEMBER_COMMAND[@]}"
pids=("${CLUSTER_PIDS[@]}")
endpoints=$CLUSTER_ENDPOINTS
wait_for_cluster "$endpoints" || { echo "cluster did not start; logs in $data" >&2; trap - EXIT; kill "${pids[@]}"; exit 1; }
roles=$(ETCDCTL_API=3 etcdctl --endpoints "$endpoints" endpoint status -w table 2>/dev/null | grep -E "true|false" | awk -F'|' '{print ($6 ~ /true/) ? "L" : "F"}' | tr -d '\n')
# "main other" CPU ticks of every member, in member order.
ticks() {
  local p main other tk t
  for p in "${pids[@]}"; do
    main=0; other=0
    for tk in /proc/"$p"/task/*; do
      t=$(awk '{print $14 + $15}' "$tk/stat")
      if [ "$(basename "$tk")" = "$p" ]; then main=$t; else other=$((other + t)); fi
    done
    echo -n "$main $other "
  done
}
hz=$(getconf CLK_TCK)
for workload in "$@"; do
  # shellcheck disable=SC2086 # the workload string is meant to split into arguments
  node bin/latchkey benchmark $workload --endpoints "$endpoints" --duration 2s >/dev/null 2>&1
  read -r -a before <<< "$(ticks)"
  # shellcheck disable=SC2086
  out=$(node bin/latchkey benchmark $workload --endpoints "$endpoints" 2>/dev/null)
  read -r -a after <<< "$(ticks)"
  ops=$(awk '/Ops:/{print $2}' <<< "$out"); rps=$(awk '/Requests\/sec:/{print $2}' <<< "$out")
  line=$(printf "%-8s %-55s ops/s %8s" "$target" "$workload" "$rps")
  for i in 0 1 2; do
    line+=$(awk -v r="${roles:$i:1}" -v m=$((after[2*i] - before[2*i])) -v o=$((after[2*i+1] - before[2*i+1])) -v n="$ops" -v hz="$hz" \
      'BEGIN{printf "   %s %.2f+%.2f", r, m*1000/hz/n, o*1000/hz/n}')
  done
  echo "$line"
done
