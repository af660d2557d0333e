# Sourced by the measuring scripts: one 3-member cluster on loopback with bench:compare's
# flags (heartbeat 100 ms, election timeout 1000 ms, snapshot count 10000, fsync on).

# start_cluster3 <name prefix> <base port> <data dir> <log dir> <command...>
# Starts members <prefix>0..2 (client port base+2i, peer port base+2i+1) with the command,
# in which "{name}" stands for the member's name (e.g. a per-member --cpu-prof-dir). Sets
# CLUSTER_PIDS (array, member order) and CLUSTER_ENDPOINTS (comma-separated client addresses).
start_cluster3() {
  local prefix=$1 base=$2 data=$3 logs=$4 initial="" i name
  shift 4
  for i in 0 1 2; do initial+="$prefix$i=http://127.0.0.1:$((base + 2*i + 1)),"; done
  initial=${initial%,}
  CLUSTER_PIDS=()
  for i in 0 1 2; do
    name=$prefix$i
    "${@//\{name\}/$name}" --name "$name" --data-dir "$data/$name" \
      --listen-client-urls "http://127.0.0.1:$((base + 2*i))" --advertise-client-urls "http://127.0.0.1:$((base + 2*i))" \
      --listen-peer-urls "http://127.0.0.1:$((base + 2*i + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((base + 2*i + 1))" \
      --initial-cluster "$initial" --heartbeat-interval 100 --election-timeout 1000 --snapshot-count 10000 \
      --log-level warn > "$logs/$name.log" 2>&1 &
    CLUSTER_PIDS+=($!)
  done
  CLUSTER_ENDPOINTS="127.0.0.1:$base,127.0.0.1:$((base + 2)),127.0.0.1:$((base + 4))"
}

# wait_for_cluster <endpoints>: succeeds once a put goes through (at most ~30 s).
wait_for_cluster() {
  local _
  for _ in $(seq 1 150); do
    if ETCDCTL_API=3 etcdctl --endpoints "$1" put /ready x >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

# member_command <dist|etcd> [node flags...]: the command line that runs one member.
member_command() {
  local target=$1
  shift
  if [ "$target" = etcd ]; then MEMBER_COMMAND=(etcd); else MEMBER_COMMAND=(env LATCHKEY_DIST="$(realpath "$target")" node "$@" bin/latchkey serve); fi
}
