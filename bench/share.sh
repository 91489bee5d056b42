#!/usr/bin/env bash
# Benchmark: HTTP through derphole share/open beside the same load through a plain socat TCP
# forwarder, in one run. wrk drives a small HTTP service (dev.derphole.bench.HttpResponder, one
# thread, fixed 128-byte answers) three ways:
#   - directly (the ceiling of this machine),
#   - through `socat TCP-LISTEN:…,fork TCP:service` (the plain-TCP forwarder baseline), and
#     through two such socats in series (as many user-space hops as open → share),
#   - through `derphole open` → QUIC → `derphole share`, on the relay path (--force-relay) and
#     on the direct path (loopback UDP on one machine);
# each with keep-alive connections and with a new connection per request (Connection: close),
# printing requests/s, the p50/p99 latency wrk measured, the CPU the forwarder processes
# (socat, or both derphole JVMs) spent per request ("fwd us/r"), which a noisy machine disturbs
# less than the rates, and the context switches of the whole machine per request ("ctxsw/r").
# With --natlab (as root; test/natlab/lab.sh), also across the NAT lab's internet: service and
# share on host A, wrk, socat and open on host B: the relay path through the lab's relay
# (--force-relay), and the direct path between the two hosts.
#
#   bench/share.sh [--natlab] [DURATION_S] [CONNECTIONS]      (defaults 10 s, 32)
#   WARMUP=S: seconds of the same load before each derphole measurement (default 20)
#   ROUNDS=N: with --natlab, N more keep-alive rounds afterwards, socat and derphole's direct path
#             taking turns with both forwarders kept running (default 0); each round's ratio is
#             printed, then their median: one pair of runs on this noisy machine proves little.
#   NATLAB_ONLY=1: with --natlab, skip the one-machine rows.
#
# Needs java 17, wrk, socat, python3; builds the jars when missing; installs nothing.
set -euo pipefail
natlab=0
if [ "${1:-}" = "--natlab" ]; then natlab=1; shift; fi
duration=${1:-10}; conns=${2:-32}
rounds=${ROUNDS:-0}
case "$rounds" in *[!0-9]*|'') echo "bench/share.sh: ROUNDS must be a number, not '$rounds'" >&2; exit 2 ;; esac
if [ "$natlab" = 0 ] && { [ "$rounds" != 0 ] || [ "${NATLAB_ONLY:-0}" = 1 ]; }; then
  echo "bench/share.sh: ROUNDS and NATLAB_ONLY need --natlab" >&2; exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
lab="$root/test/natlab/lab.sh"
out=$(mktemp -d /tmp/derphole-sharebench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$natlab" = 1 ]; then "$lab" down >/dev/null 2>&1 || true; fi
  rm -rf "$out"
}
trap cleanup EXIT
for tool in wrk socat python3 java; do
  command -v $tool >/dev/null || { echo "bench/share.sh: needs $tool" >&2; exit 1; }
done
if [ ! -f "$root/cli/target/derphole.jar" ] || [ ! -f "$root/bench/target/derphole-bench.jar" ]; then
  (cd "$root" && mvn -q -B -DskipTests package)
fi
bench_jar=$root/bench/target/derphole-bench.jar

# on NODE CMD...: run CMD on this machine, or inside a NAT-lab node.
on() { local node=$1; shift; if [ "$node" = local ]; then "$@"; else "$lab" exec "$node" "$@"; fi; }
await() { for _ in $(seq 600); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
          echo "bench/share.sh: no '$2' in $1:" >&2; cat "$1" >&2; exit 1; }

# wrk NODE URL MODE → "req/s p50 p99"
load() {
  local node=$1 url=$2 mode=$3 extra=()
  [ "$mode" = close ] && extra=(-H 'Connection: close')
  on "$node" wrk -t2 -c"$conns" -d"${duration}s" --latency "${extra[@]}" "$url" > "$out/wrk.txt" 2>&1 || true
  python3 - "$out/wrk.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(s):
    v, u = re.match(r"([\d.]+)(us|ms|s)", s).groups()
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u]
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p50 = re.search(r"\s50%\s+(\S+)", t); p99 = re.search(r"\s99%\s+(\S+)", t)
errs = re.search(r"Socket errors: (.*)", t); non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
note = (" errors: " + errs.group(1) if errs else "") + (f" non-2xx: {non2xx.group(1)}" if non2xx else "")
if not rps:
    print("- - - wrk failed: " + t.strip().replace("\n", " ")[:200]); sys.exit()
n = re.search(r"(\d+) requests in", t)
print(f"{float(rps.group(1)):.0f} {ms(p50.group(1)):.2f} {ms(p99.group(1)):.2f} {n.group(1) if n else 0}{note}")
PY
}

# CPU ticks (user + system, with reaped children: socat forks one per connection) of the PIDs in
# $fwd, the forwarder(s) of the row being measured.
fwd=""
ticks() {
  local sum=0 p
  for p in $fwd; do
    # a forked socat's CPU reaches its parent only once the child is reaped
    for _ in $(seq 50); do pgrep -P "$p" >/dev/null || break; sleep 0.1; done
    sum=$((sum + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat")))
  done
  echo "$sum"
}

# context switches of the whole machine so far (wrk and the service included)
ctxt() { awk '/^ctxt /{print $2}' /proc/stat; }

row() { # label node url; forwarder CPU per request from the PIDs in $fwd
  local t0 t1 c0 c1 cpu cs
  for mode in keepalive close; do
    t0=$(ticks); c0=$(ctxt)
    read -r rps p50 p99 n note < <(load "$2" "$3" "$mode")
    c1=$(ctxt); t1=$(ticks)
    cpu=-; cs=-
    if [ "${n:-0}" -gt 0 ]; then
      cs=$(( (c1 - c0) * 10 / n )); cs="$((cs / 10)).$((cs % 10))"
      if [ -n "$fwd" ]; then cpu=$(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / n )); fi
    fi
    printf '%-44s %-10s %9s %9s %9s %9s %7s %s\n' "$1" "$mode" "$rps" "$p50" "$p99" "$cpu" "$cs" "${note:-}"
  done
}

header() {
  printf '%-44s %-10s %9s %9s %9s %9s %7s\n' "$1" "conn" "req/s" "p50 ms" "p99 ms" "fwd us/r" "ctxsw/r"
}

# start_share NODE_SHARE NODE_OPEN TARGET MAP FLAGS → sets open_port (and starts both)
start_share() {
  local ns=$1 no=$2 target=$3 map=$4 flags=$5
  rm -f "$out/share.err" "$out/open.err"
  on "$ns" env DERPHOLE_DERP_MAP="$map" "$root/bin/derphole" --verbose share $flags "$target" 2> "$out/share.err" &
  pids+=($!)
  await "$out/share.err" '^derphole open '
  local token; token=$(grep '^derphole open ' "$out/share.err" | awk '{print $3}')
  on "$no" env DERPHOLE_DERP_MAP="$map" "$root/bin/derphole" --verbose open $flags "$token" 2> "$out/open.err" &
  pids+=($!)
  open_pid=$!
  await "$out/open.err" '^listening on '
  open_port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$out/open.err" | awk -F: '{print $2}')
  share_pid=${pids[-2]}
  fwd="$(pgrep -n -f -- '--verbose share ') $(pgrep -n -f -- '--verbose open ')"
  # Warm up the JIT and the path before measuring: a share serves for hours, so its steady state
  # is what counts. 5 s was too short (C2 had not compiled the hot path yet: half the rate).
  on "$no" wrk -t2 -c"$conns" -d"${WARMUP:-20}s" "http://127.0.0.1:$open_port/" > /dev/null 2>&1 || true
}

stop_share() {
  local path=relay
  grep -q '^connected-direct' "$out/share.err" && path=direct
  kill "$open_pid" "$share_pid" 2>/dev/null || true
  wait "$open_pid" "$share_pid" 2>/dev/null || true
  echo "$path"
}

echo "derphole share/open vs socat: wrk -t2 -c$conns -d${duration}s, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "java: $(java -version 2>&1 | head -1)"

# ------------------------------------------------------------------ one machine (loopback)
if [ "${NATLAB_ONLY:-0}" != 1 ]; then
"$root/bin/derper" --listen 127.0.0.1:0 --stun-port 0 --derp-map-out "$out/map.json" 2>"$out/derper.err" &
pids+=($!)
await "$out/map.json" 'Regions'
java -cp "$bench_jar" dev.derphole.bench.HttpResponder 127.0.0.1:0 > "$out/http.out" 2>&1 &
pids+=($!)
await "$out/http.out" '^listening '
http_port=$(awk '/^listening/{print $2}' "$out/http.out")
on local wrk -t1 -c4 -d2s "http://127.0.0.1:$http_port/" > /dev/null 2>&1 || true

echo
header "one machine (127.0.0.1)"
fwd=""
row "direct to the service (ceiling)" local "http://127.0.0.1:$http_port/"
socat_port=$((20000 + RANDOM % 20000))
socat TCP-LISTEN:$socat_port,bind=127.0.0.1,reuseaddr,fork,backlog=1024 TCP:127.0.0.1:$http_port &
pids+=($!)
fwd=$!
sleep 0.3
row "socat forwarder (baseline)" local "http://127.0.0.1:$socat_port/"
# Two forwarders in series: the same number of user-space hops as open → share.
socat TCP-LISTEN:$((socat_port + 1)),bind=127.0.0.1,reuseaddr,fork,backlog=1024 TCP:127.0.0.1:$socat_port &
pids+=($!)
fwd="$fwd $!"
sleep 0.3
row "two socat forwarders in series (two hops)" local "http://127.0.0.1:$((socat_port + 1))/"
start_share local local "127.0.0.1:$http_port" "$out/map.json" "--force-relay"
row "derphole open→share, relay (--force-relay)" local "http://127.0.0.1:$open_port/"
echo "  (path: $(stop_share))"
start_share local local "127.0.0.1:$http_port" "$out/map.json" ""
row "derphole open→share, direct (UDP, this host)" local "http://127.0.0.1:$open_port/"
echo "  (path: $(stop_share))"
fi

[ "$natlab" = 1 ] || exit 0

# ------------------------------------------------------------------ NAT lab (two hosts)
export NATLAB_ID=shb$$
"$lab" up none none >/dev/null
on inet "$root/bin/derper" --listen 198.51.100.1:8443 --stun-port 3478 --derp-map-out "$out/labmap.json" 2>"$out/labderper.err" &
pids+=($!)
await "$out/labmap.json" 'Regions'
on hA java -cp "$bench_jar" dev.derphole.bench.HttpResponder 0.0.0.0:8080 > "$out/labhttp.out" 2>&1 &
pids+=($!)
await "$out/labhttp.out" '^listening '
echo
header "NAT lab: wrk on host B, service on host A"
fwd=""
row "host A's service across the lab (ceiling)" hB "http://198.51.100.10:8080/"
on hB socat TCP-LISTEN:9090,bind=127.0.0.1,reuseaddr,fork,backlog=1024 TCP:198.51.100.10:8080 &
pids+=($!)
# the socat itself, not the lab.sh wrapper that starts it (its command line matches too)
fwd=""
for _ in $(seq 100); do fwd=$(pgrep -n -f '^socat TCP-LISTEN:9090' || true); [ -n "$fwd" ] && break; sleep 0.05; done
sleep 0.5
row "socat forwarder on B (baseline)" hB "http://127.0.0.1:9090/"
start_share hA hB "127.0.0.1:8080" "$out/labmap.json" "--force-relay"
row "derphole open(B)→share(A), relay (--force-relay)" hB "http://127.0.0.1:$open_port/"
echo "  (path: $(stop_share))"
start_share hA hB "127.0.0.1:8080" "$out/labmap.json" ""
row "derphole open(B)→share(A), direct" hB "http://127.0.0.1:$open_port/"
if [ "$rounds" -gt 0 ]; then
  echo
  echo "NAT lab, keep-alive, $rounds interleaved rounds (req/s; socat, then derphole direct):"
  ratios=()
  for i in $(seq "$rounds"); do
    read -r s_rps _ < <(load hB "http://127.0.0.1:9090/" keepalive)
    read -r d_rps _ < <(load hB "http://127.0.0.1:$open_port/" keepalive)
    r=$(python3 -c "print(f'{$d_rps / $s_rps * 100:.0f}')" 2>/dev/null || echo -)
    ratios+=("$r")
    printf '  round %2d: socat %7s  derphole %7s  %4s %%\n' "$i" "$s_rps" "$d_rps" "$r"
  done
  echo "  median ratio: $(printf '%s\n' "${ratios[@]}" | grep -v '^-$' | sort -n | python3 -c 'import sys, statistics; v=[float(x) for x in sys.stdin]; print(f"{statistics.median(v):.0f} % of socat over {len(v)} rounds (min {min(v):.0f}, max {max(v):.0f})" if v else "-")')"
fi
echo "  (path: $(stop_share))"
