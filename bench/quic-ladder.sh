#!/usr/bin/env bash
# Benchmark: the QUIC data path rung by rung, in one run, so that the rung where throughput drops
# shows where the time goes (docs/benchmarks.md, "listen / pipe, and the QUIC ceiling").
#
#   bench/quic-ladder.sh [SIZE_MIB] [RUNS]        (defaults 1024 and 2)
#
# Rungs, each moving SIZE_MIB on one stream over loopback, RUNS times, interleaved:
#   bare, path, stream,  QuicCeilingBench: both ends in one JVM (bare QUIC codec with our settings;
#   session, relay       + DirectPath/PeerPath going direct; + StreamSender/StreamReceiver; the real
#                        sessions through an in-process relay, direct allowed; the same relay only)
#   pipe direct          derphole listen > /dev/null  <-  derphole pipe < file, direct path allowed
#   pipe relay           the same with --force-relay, through a local derper
#   socat                socat -> socat TCP relay -> socat of the same file (plain-TCP ceiling)
# For the derphole processes, each thread's CPU and run-queue time (from /proc/PID/task/*/schedstat)
# is printed in cores over the transfer: a thread that neither ran nor queued waited for work.
# BASE_JAR=path/to/derphole.jar adds the two pipe rungs run with that build (e.g. main's), for a
# before/after in the same run. Hold `flock /tmp/bench.lock` around it on a shared machine.
set -euo pipefail
size_mib=${1:-1024}
runs=${2:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
bench_workdir derphole-ladder
command -v socat >/dev/null || { echo "bench/quic-ladder.sh: needs socat (apt-get install -y socat)" >&2; exit 1; }
[ -f "$root/cli/target/derphole.jar" ] && [ -f "$root/bench/target/derphole-bench.jar" ] \
  || (cd "$root" && mvn -q -B -DskipTests package)
bytes=$((size_mib * 1048576))
head -c "$bytes" /dev/urandom > "$out/in.bin"

"$root/bin/derper" --listen 127.0.0.1:0 --stun-port 0 --derp-map-out "$out/map.json" 2>"$out/derper.err" &
pids+=($!)
for _ in $(seq 200); do [ -f "$out/map.json" ] && break; sleep 0.05; done
export DERPHOLE_DERP_MAP="$out/map.json"

# Samples the threads of the given processes until they end; prints "name: thread=cpu/runq ..." in
# cores over SECONDS (read from the file named by $1 once the processes are gone).
sample_threads() {
  python3 - "$@" <<'PY'
import os, sys, time, re
seconds_file, pids = sys.argv[1], sys.argv[2:]
first, last = {}, {}
def read(pid):
    d = f"/proc/{pid}/task"
    for tid in os.listdir(d):
        try:
            comm = open(f"{d}/{tid}/comm").read().strip()
            run, wait, slices = (int(x) for x in open(f"{d}/{tid}/schedstat").read().split())
        except OSError:
            continue
        key = (pid, tid)
        first.setdefault(key, (comm, run, wait, slices))
        last[key] = (comm, run, wait, slices)
while True:
    alive = [p for p in pids if os.path.exists(f"/proc/{p}")]
    if not alive:
        break
    for p in alive:
        try:
            read(p)
        except OSError:
            pass
    time.sleep(0.1)
for _ in range(100):
    if os.path.exists(seconds_file) and open(seconds_file).read().strip():
        break
    time.sleep(0.05)
t = float(open(seconds_file).read())
for pid in pids:
    agg = {}
    for (p, tid), (comm, run, wait, slices) in last.items():
        if p != pid:
            continue
        _, r0, w0, s0 = first[(p, tid)]
        name = re.sub(r"[0-9]+$", "", comm) or comm
        a = agg.setdefault(name, [0, 0, 0])
        a[0] += run; a[1] += wait; a[2] += slices
    busy = sorted(agg.items(), key=lambda kv: -kv[1][0])[:5]
    print("    " + pid + ": " + "  ".join(f"{n}={r/1e9/t:.2f}/{w/1e9/t:.2f} ({s/1000:.0f}k)" for n, (r, w, s) in busy if r/1e9/t >= 0.01))
PY
}

# One derphole transfer of in.bin; prints the line for the table and the threads' use.
derphole_run() {
  local label=$1 flags=$2 jar=${3:-$root/cli/target/derphole.jar}
  export DERPHOLE_JAR=$jar
  rm -f "$out/listen.err" "$out/seconds"
  "$root/bin/derphole" --verbose listen $flags > /dev/null 2>"$out/listen.err" &
  local lp=$!
  for _ in $(seq 400); do grep -q '^derphole pipe ' "$out/listen.err" 2>/dev/null && break; sleep 0.05; done
  local token; token=$(grep '^derphole pipe ' "$out/listen.err" | awk '{print $3}')
  local start; start=$(date +%s.%N)
  "$root/bin/derphole" pipe $flags "$token" < "$out/in.bin" &
  local pp=$!
  sample_threads "$out/seconds" "$lp" "$pp" > "$out/threads" &
  local sp=$!
  wait "$pp"
  local end; end=$(date +%s.%N)
  wait "$lp"
  python3 -c "print($end - $start)" > "$out/seconds"
  wait "$sp" || true
  local path=relay; grep -q '^connected-direct' "$out/listen.err" && path=direct
  grep -q "^stream-complete $bytes bytes" "$out/listen.err" || { echo "derphole: incomplete stream" >&2; exit 1; }
  python3 -c "t=$end - $start; print(f'  {\"$label\":<34} {$bytes*8/t/1e6:7.0f} Mbit/s {t:7.2f} s  (path: $path)')"
  echo "    threads, cores on CPU/in the run queue (k = thousand times scheduled): listen $lp, pipe $pp"
  cat "$out/threads"
}

socat_run() {
  local port_a=$((20000 + RANDOM % 20000)) port_b=$((40000 + RANDOM % 20000))
  socat -b 1048576 TCP-LISTEN:$port_a,bind=127.0.0.1,reuseaddr TCP-LISTEN:$port_b,bind=127.0.0.1,reuseaddr &
  local relay=$!
  sleep 0.2
  socat -b 1048576 -u TCP:127.0.0.1:$port_b,retry=50,interval=0.05 - > /dev/null &
  local recv=$!
  local start; start=$(date +%s.%N)
  socat -b 1048576 -u OPEN:"$out/in.bin" TCP:127.0.0.1:$port_a,retry=50,interval=0.05
  wait $recv; local end; end=$(date +%s.%N)
  wait $relay 2>/dev/null || true
  python3 -c "t=$end - $start; print(f'  {\"socat -> socat relay -> socat\":<34} {$bytes*8/t/1e6:7.0f} Mbit/s {t:7.2f} s')"
}

echo "QUIC ladder: ${size_mib} MiB per transfer, $runs runs, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "$(java -version 2>&1 | head -1); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  echo "run $run:"
  java -XX:+UseSerialGC -Xmx256m -XX:MaxDirectMemorySize=256m -cp "$root/bench/target/derphole-bench.jar" \
    dev.derphole.bench.QuicCeilingBench --rungs bare,path,stream,session,relay --bytes "$bytes" --runs 1 \
    --warmup $((bytes < 268435456 ? bytes : 268435456)) 2>"$out/ceiling.err" \
    | sed -n 's/^RESULT //p' | while read -r line; do echo "  $line"; done
  derphole_run "derphole pipe, direct" ""
  derphole_run "derphole pipe, relay only" "--force-relay"
  if [ -n "${BASE_JAR:-}" ]; then
    derphole_run "base: derphole pipe, direct" "" "$BASE_JAR"
    derphole_run "base: derphole pipe, relay only" "--force-relay" "$BASE_JAR"
  fi
  socat_run
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
