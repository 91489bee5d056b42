#!/usr/bin/env bash
# Benchmark: what meshing costs. The same load on one relay and on a region of three meshed relays.
#
#   bench/relay-mesh.sh                  # PAIRS=64 RATE=500 SIZE=1200 DURATION=60 IDLE=10000
#
# Load: PAIRS pairs, each sender writing RATE packets/s of SIZE bytes for DURATION seconds
# (bench/RelayMeshBench). With three relays (bin/derper --mesh-with, plain HTTP, one mesh key)
# sender i sits on node i mod 3 and its receiver on node i+1 mod 3, so every packet crosses the
# mesh (SendPacket -> ForwardPacket -> RecvPacket); with one relay the same pairs are local.
# Printed per run: packets/s received, loss, CPU seconds of each relay over the run, CPU
# microseconds per packet delivered (all relays together), and each relay's VmRSS at the end.
# Then IDLE clients connect to one relay and stay; its VmRSS is printed (the fd limit is raised,
# and the per-address cap lifted, since every client comes from 127.0.0.1; IDLE=0 skips this).
# All on 127.0.0.1, everything cleaned up; RESULT lines in the output.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
bench_workdir derphole-mesh
pairs=${PAIRS:-64}
rate=${RATE:-500}
size=${SIZE:-1200}
duration=${DURATION:-60}
idle=${IDLE:-10000}
bench_jar=$root/bench/target/derphole-bench.jar
[ -f "$bench_jar" ] && [ -f "$root/cli/target/derphole.jar" ] || (cd "$root" && mvn -q -B -DskipTests package >&2)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_of() { awk -v t="$clk_tck" -v n="$(cpu_ticks "/proc/$1")" 'BEGIN { print n / t }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

openssl rand -hex 32 > "$out/mesh.key" 2>/dev/null || python3 -c 'import secrets; print(secrets.token_hex(32))' > "$out/mesh.key"

# start_region N: N relays meshed with each other; sets relay_pids and $out/map.json (every node).
start_region() {
  local n=$1 ports=() i peers
  relay_pids=()
  for i in $(seq "$n"); do ports+=("$(free_port)"); done
  relay_ports=("${ports[@]}")
  peers=$(printf '127.0.0.1:%s,' "${ports[@]}"); peers=${peers%,}
  for i in $(seq 0 $((n - 1))); do
    local flags=(--listen "127.0.0.1:${ports[$i]}" --stun-port -1 --plain-http --derp-map-out "$out/map$i.json"
      --max-conns-per-ip 100000 --max-conns 100000)
    [ "$n" -gt 1 ] && flags+=(--mesh-with "$peers" --mesh-psk-file "$out/mesh.key")
    rm -f "$out/map$i.json"
    "$root/bin/derper" "${flags[@]}" > "$out/derper$i.err" 2>&1 &
    relay_pids+=($!); pids+=($!)
  done
  for i in $(seq 0 $((n - 1))); do
    for _ in $(seq 300); do [ -s "$out/map$i.json" ] && break; sleep 0.1; done
    [ -s "$out/map$i.json" ] || { echo "relay-mesh.sh: derper $i did not start; see $out/derper$i.err" >&2; cat "$out/derper$i.err" >&2; exit 1; }
  done
  cp "$out/map0.json" "$out/map.json"
  if [ "$n" -gt 1 ]; then  # every relay watches the others before the load starts
    for i in $(seq 0 $((n - 1))); do
      for _ in $(seq 300); do grep -c 'mesh peer .* up' "$out/derper$i.err" | grep -qx "$((n - 1))" && break; sleep 0.1; done
    done
  fi
}
stop_region() { for p in "${relay_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }

# drops: every relay's packet drops by reason, summed over the region ("queue_full=0 ...").
drops() {
  local i
  for i in "${!relay_ports[@]}"; do curl -s "http://127.0.0.1:${relay_ports[$i]}/metrics"; done |
    awk -F'[{}" ]+' '/^derp_packets_dropped_total/ { n[$3] += $NF } END { for (r in n) printf "drop_%s=%d ", r, n[r] }'
}

run_load() {
  local n=$1 i line
  start_region "$n"
  line=$(java -cp "$bench_jar" dev.derphole.bench.RelayMeshBench --map "$out/map.json" --pairs "$pairs" --rate "$rate" \
    --size "$size" --duration "$duration" --warmup 5 --label "$n-relays" --relay-pids "$(IFS=,; echo "${relay_pids[*]}")")
  local rss=""
  for i in "${!relay_pids[@]}"; do rss+="${rss:+/}$(( $(rss_kib "${relay_pids[$i]}") / 1024 ))"; done
  echo "$line relay_rss_mib=$rss $(drops)"
  stop_region
}

echo "# relay-mesh: $pairs pairs x $rate pkt/s x $size B for $duration s; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
run_load 1
run_load 3

[ "$idle" -gt 0 ] || exit 0
start_region 1
rss0=$(rss_kib "${relay_pids[0]}")
mkfifo "$out/hold"
java -Xss256k -cp "$bench_jar" dev.derphole.bench.RelayMeshBench --map "$out/map.json" --idle "$idle" < "$out/hold" > "$out/idle.out" &
idle_pid=$!; pids+=($idle_pid)
exec 3> "$out/hold"
for _ in $(seq 3000); do grep -q 'relay-idle' "$out/idle.out" 2>/dev/null && break; kill -0 "$idle_pid" 2>/dev/null || break; sleep 0.1; done
echo "$(cat "$out/idle.out") relay_rss_mib_before=$((rss0 / 1024)) relay_rss_mib_held=$(( $(rss_kib "${relay_pids[0]}") / 1024 )) kib_per_client=$(( ($(rss_kib "${relay_pids[0]}") - rss0) / idle ))"
exec 3>&-
wait "$idle_pid" || true
stop_region
