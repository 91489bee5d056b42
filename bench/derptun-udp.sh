#!/usr/bin/env bash
# derptun UDP forwarding on one machine: 1200-byte datagrams at a fixed rate from a sender to a
# receiver in one JVM (dev.derphole.bench.UdpLatencyBench: one-way latency on one clock), sent
#   - straight to the receiver (the ceiling of this machine),
#   - through `socat UDP4-LISTEN:… UDP4:receiver` (the plain-UDP forwarder baseline; a new socat
#     for each row, as each row has a sender socket of its own),
#   - through `derptun open --udp` -> `derptun serve --udp`, on the direct path (loopback UDP) and
#     relay-only (--force-relay, through a local bin/derper),
# each at LATENCY_RATE datagrams/s (latency: p50/p99 and what the forwarder adds to the ceiling's
# p50) and at each of THROUGHPUT_RATES (datagrams/s that arrive, and the loss). "fwd us/dg" is the
# CPU the forwarder processes (socat, or both derptun JVMs) spent per datagram sent, which a busy
# machine disturbs far less than the rates; 1e6 over it is what one core could forward.
#
#   bench/derptun-udp.sh [SECONDS]            (default 10 per row)
#   LATENCY_RATE=N (default 10000), THROUGHPUT_RATES="N M" (default "50000 100000")
#   BASE_JAR=path/to/derphole.jar adds the two derptun rows run with that build (e.g. main's), for a
#   before/after in the same run. Hold `flock /tmp/bench.lock` around it on a shared machine.
#
# Needs java 17, socat, python3; builds the jars when missing; installs nothing.
set -euo pipefail
seconds=${1:-10}
latency_rate=${LATENCY_RATE:-10000}
throughput_rates=${THROUGHPUT_RATES:-50000 100000}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
bench_workdir derptun-udp-bench
for tool in socat python3 java; do
  command -v $tool >/dev/null || { echo "bench/derptun-udp.sh: needs $tool" >&2; exit 1; }
done
if [ ! -f "$root/cli/target/derphole.jar" ] || [ ! -f "$root/bench/target/derphole-bench.jar" ]; then
  (cd "$root" && mvn -q -B -DskipTests package)
fi
bench_jar=$root/bench/target/derphole-bench.jar
free_udp() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
await() { for _ in $(seq 600); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
          echo "bench/derptun-udp.sh: no '$2' in $1:" >&2; cat "$1" >&2; exit 1; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }

# measure TO RATE -> RESULT line (the receiver is on $rx)
measure() { java -cp "$bench_jar" dev.derphole.bench.UdpLatencyBench --receive "$rx" --to "$1" --rate "$2" --seconds "$seconds"; }

bench_start_derper "$out/derper.log" "$out/map.json"
pids+=("$derper_pid")
export DERPHOLE_DERP_MAP=$out/map.json DERPHOLE_ALLOW_LOOPBACK=1
"$root/bin/derptun" token server --output "$out/server.dts"
"$root/bin/derptun" token client --token-file "$out/server.dts" --output "$out/client.dtc"

# tunnel FLAGS...: serve in front of the receiver, open on a free port; sets via. $jar, when set,
# is the build both ends run.
jar=
tunnel() {
  export DERPHOLE_JAR=$jar
  [ -n "$jar" ] || unset DERPHOLE_JAR
  "$root/bin/derptun" --verbose serve "$@" --token-file "$out/server.dts" --udp "127.0.0.1:$rx" 2> "$out/serve.err" &
  serve_pid=$!; pids+=("$serve_pid")
  await "$out/serve.err" '^relay-connected'
  "$root/bin/derptun" --verbose open "$@" --token-file "$out/client.dtc" --udp 127.0.0.1:0 2> "$out/open.err" &
  open_pid=$!; pids+=("$open_pid")
  await "$out/open.err" '^listening on udp'
  via=$(sed -n 's/^listening on udp \(.*\)$/\1/p' "$out/open.err")
  if [ $# = 0 ]; then await "$out/open.err" '^connected-direct'; fi
}
# drops: what each end's udp-dropped lines added up to, by reason (verbose: at most a line a second).
drops() {
  local f
  for f in open serve; do
    python3 - "$out/$f.err" "$f" <<'PY'
import re, sys
total = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"udp-dropped \d+ in the last \d+ s \((.*)\)$", line.strip())
    for part in (m.group(1).split(", ") if m else []):
        why, n = part.rsplit(": ", 1)
        total[why] = total.get(why, 0) + int(n)
print(f"  {sys.argv[2]} dropped: " + (", ".join(f"{k}: {v}" for k, v in total.items()) or "none counted"))
PY
  done
}
untunnel() { drops; kill "$open_pid" "$serve_pid" 2>/dev/null || true; wait "$open_pid" "$serve_pid" 2>/dev/null || true; }
path() { if grep -q '^connected-direct' "$out/open.err"; then echo direct; else echo relay; fi; }

echo "derptun UDP on one machine: 1200-byte datagrams, ${seconds} s per row, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "$(java -version 2>&1 | head -1); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %9s %9s %9s %9s %11s %10s %10s\n' "path" "rate/s" "rx/s" "loss %" "p50 us" "p50 added" "p99 us" "fwd us/dg"
base_p50=
fwd=()   # the forwarder's pids, for its CPU
ticks() { local t=0 p; for p in "${fwd[@]:-}"; do [ -n "$p" ] && t=$((t + $(cpu_ticks /proc/"$p" 2>/dev/null || echo 0))); done; echo $t; }
row() { # NAME TO RATE
  local before; before=$(ticks)
  local r; r=$(measure "$2" "$3")
  local used=$(( $(ticks) - before ))
  local p50; p50=$(field p50_us "$r")
  [ -n "$base_p50" ] || base_p50=$p50
  printf '%-40s %9s %9s %9s %9s %11s %10s %10s\n' "$1" "$3" "$(field rx_per_s "$r")" "$(field loss_pct "$r")" "$p50" \
    "$(python3 -c "print(f'{$p50-$base_p50:+.1f}')")" "$(field p99_us "$r")" \
    "$(python3 -c "print('-' if not ${#fwd[@]} else f'{$used/$clk_tck*1e6/($3*($seconds+1)):.1f}')")"
}
all_rates() { row "$1" "$2" "$latency_rate"; for rate in $throughput_rates; do row "$1" "$2" "$rate"; done; }
# socat_row NAME RATE: a fresh socat for one sender
socat_row() {
  local s; s=$(free_udp)
  socat -b 65536 UDP4-LISTEN:"$s",bind=127.0.0.1,reuseaddr UDP4:127.0.0.1:"$rx" &
  socat_pid=$!; pids+=("$socat_pid"); fwd=("$socat_pid")
  row "$1" "127.0.0.1:$s" "$2"
  kill "$socat_pid" 2>/dev/null || true; wait "$socat_pid" 2>/dev/null || true; fwd=()
}

rx=$(free_udp)
all_rates "none (straight to the receiver)" "127.0.0.1:$rx"
for rate in $latency_rate $throughput_rates; do socat_row "socat UDP (plain forwarder)" "$rate"; done
tunnel
fwd=("$serve_pid" "$open_pid")
all_rates "derptun, $(path)" "$via"
untunnel
tunnel --force-relay
fwd=("$serve_pid" "$open_pid")
all_rates "derptun, $(path) (--force-relay)" "$via"
untunnel
if [ -n "${BASE_JAR:-}" ]; then
  jar=$BASE_JAR
  tunnel
  fwd=("$serve_pid" "$open_pid")
  all_rates "base: derptun, $(path)" "$via"
  untunnel
  tunnel --force-relay
  fwd=("$serve_pid" "$open_pid")
  all_rates "base: derptun, $(path) (--force-relay)" "$via"
  untunnel
  jar=
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
