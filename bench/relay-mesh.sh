#!/usr/bin/env bash
# Benchmark: what meshing costs. The same load on one relay and on a region of three meshed relays.
#
#   bench/relay-mesh.sh                  # PAIRS=64 RATES="500 200" SIZE=1200 DURATION=60 WARMUP=20 IDLE=10000
#
# Load: PAIRS pairs, each sender writing RATE packets/s of SIZE bytes for DURATION seconds
# (bench/RelayMeshBench), for each RATE of RATES, in three runs back to back: one relay; three
# relays meshed (bin/derper --mesh-with, plain HTTP, one mesh key) with sender i on node i mod 3
# and its receiver on node i+1 mod 3, so every packet crosses the mesh (SendPacket ->
# ForwardPacket -> RecvPacket); and the same three relays with each receiver on its sender's node
# ("3-local": the same processes and load per relay, nothing forwarded). Printed per run:
# packets/s received, loss, CPU seconds of each relay over the run, CPU microseconds per packet
# delivered (all relays together), the same without the relays' JIT compiler threads (a relay
# that still compiles spends much of its CPU there, and three relays compile everything three
# times), and each relay's VmRSS at the end; then a table per rate with the mesh's CPU per packet
# beside one relay's and beside 3-local's. WARMUP seconds of the same load come first.
# Then IDLE clients connect to one relay and stay; its VmRSS is printed (the fd limit is raised,
# and the per-address cap lifted, since every client comes from 127.0.0.1; IDLE=0 skips this).
# All on 127.0.0.1, everything cleaned up; RESULT lines in the output.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
bench_workdir derphole-mesh
pairs=${PAIRS:-64}
rates=${RATES:-${RATE:-500 200}}
size=${SIZE:-1200}
duration=${DURATION:-60}
warmup=${WARMUP:-20}
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

# run_load N LABEL LOCAL: one run on N relays; prints its RESULT line and keeps it in $out/results.
run_load() {
  local n=$1 label=$2 local=$3 i line
  start_region "$n"
  line=$(java -cp "$bench_jar" dev.derphole.bench.RelayMeshBench --map "$out/map.json" --pairs "$pairs" --rate "$rate" \
    --size "$size" --duration "$duration" --warmup "$warmup" --label "$label" --local "$local" \
    --relay-pids "$(IFS=,; echo "${relay_pids[*]}")")
  local rss=""
  for i in "${!relay_pids[@]}"; do rss+="${rss:+/}$(( $(rss_kib "${relay_pids[$i]}") / 1024 ))"; done
  line="$line relay_rss_mib=$rss $(drops)load=$(cut -d' ' -f1 /proc/loadavg)"
  echo "$line"
  echo "$line" >> "$out/results"
  stop_region
}

# summary RATE: the three runs of one rate side by side, and the mesh's CPU per packet as a ratio.
summary() {
  awk -v rate="$1" '
    function f(line, k,   m) { return match(line, " " k "=[^ ]*") ? substr(line, RSTART + length(k) + 2, RLENGTH - length(k) - 2) : "-" }
    / bench=relay-mesh / && f($0, "rate_per_pair") == rate { row[f($0, "label")] = $0 }
    END {
      printf "# %s pkt/s per pair: %-8s %10s %8s %11s %13s %12s %s\n", rate, "run", "recv/s", "loss %", "cpu us/pkt", "w/o JIT", "rss MiB", "drops (non-zero), load at end"
      n = split("1-relay 3-local 3-mesh", order, " ")
      for (i = 1; i <= n; i++) {
        l = row[order[i]]; if (l == "") continue
        d = ""; m = split(l, w, " ")
        for (j = 1; j <= m; j++) if (w[j] ~ /^drop_/ && w[j] !~ /=0$/) d = d w[j] " "
        printf "#   %-21s %-8s %10s %8s %11s %13s %12s %s%s\n", "", order[i], f(l, "pkts_per_s"), f(l, "loss_pct"), f(l, "relay_cpu_us_per_pkt"), f(l, "relay_cpu_us_per_pkt_no_jit"), f(l, "relay_rss_mib"), d, f(l, "load")
      }
      mesh = f(row["3-mesh"], "relay_cpu_us_per_pkt"); one = f(row["1-relay"], "relay_cpu_us_per_pkt"); loc = f(row["3-local"], "relay_cpu_us_per_pkt")
      if (mesh != "-" && one != "-" && one > 0) printf "#   mesh CPU per packet: %.2f x one relay", mesh / one
      if (mesh != "-" && loc != "-" && loc > 0) printf ", %.2f x the same three relays delivering locally", mesh / loc
      printf "\n"
      mesh = f(row["3-mesh"], "relay_cpu_us_per_pkt_no_jit"); one = f(row["1-relay"], "relay_cpu_us_per_pkt_no_jit"); loc = f(row["3-local"], "relay_cpu_us_per_pkt_no_jit")
      if (mesh != "-" && one != "-" && one > 0) printf "#   without JIT threads:  %.2f x one relay", mesh / one
      if (mesh != "-" && loc != "-" && loc > 0) printf ", %.2f x the same three relays delivering locally", mesh / loc
      printf "\n"
    }' "$out/results"
}

echo "# relay-mesh: $pairs pairs x ($rates) pkt/s x $size B for $duration s; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$out/results"
for rate in $rates; do
  run_load 1 1-relay no
  run_load 3 3-mesh no
  run_load 3 3-local yes
done
for rate in $rates; do summary "$rate"; done

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
