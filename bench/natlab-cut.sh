#!/usr/bin/env bash
# Benchmark across the NAT lab (docs/nat-lab.md), as root: what a transfer loses when its direct
# path dies. One long derphole listen/pipe between host A and host B (port-restricted NATs on both
# sides, so it goes direct); CYCLES times, the direct path is up for WINDOW_S seconds, then cut
# (`lab.sh cut`: UDP between the sites dropped, the relay still reachable) for WINDOW_S seconds,
# then restored. For each cycle it prints the MiB that arrived while the path was up (the
# baseline, same transfer, same run), the MiB that arrived while it was cut, the longest time
# nothing arrived during the cut, and how often each side fell back to the relay.
#
#   sudo bench/natlab-cut.sh [CYCLES] [WINDOW_S]          (defaults 4 and 12)
#   BASE_JAR=path/to/derphole.jar runs the same cycles with that build afterwards, for a
#   before/after in the same run.
# Needs python3; builds the jar when missing.
set -euo pipefail
cycles=${1:-4}; window=${2:-12}
case "$cycles$window" in *[!0-9]*|'') echo "usage: bench/natlab-cut.sh [CYCLES] [WINDOW_S]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
lab="$root/test/natlab/lab.sh"
export NATLAB_ID=cut$$
. "$root/bench/lib.sh"
bench_workdir derphole-cutbench
trap '"$lab" down >/dev/null 2>&1 || true; bench_cleanup' EXIT
[ -f "$root/cli/target/derphole.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)
ex() { "$lab" exec "$@"; }

# A sink for listen's stdout that counts: every 50 ms a line "<unix time> <bytes so far>".
cat > "$out/count.py" <<'PY'
import sys, time
log = open(sys.argv[1], "w", buffering=1)
n, last = 0, 0.0
while True:
    b = sys.stdin.buffer.read1(1 << 20)
    if not b:
        break
    n += len(b)
    t = time.time()
    if t - last >= 0.05:
        log.write(f"{t:.3f} {n}\n"); last = t
log.write(f"{time.time():.3f} {n}\n")
PY

# run JAR LABEL: one transfer through CYCLES up/cut windows; prints a line per cycle.
run() {
  local jar=$1 label=$2 marks="$out/marks" counts="$out/counts"
  rm -f "$out/map.json" "$out/listen.err" "$out/pipe.err" "$marks" "$counts"
  "$lab" up eim-apdf eim-apdf >/dev/null
  ex inet "$root/bin/derper" --listen 198.51.100.1:8443 --stun-port 3478 --derp-map-out "$out/map.json" 2>/dev/null &
  local relay=$!
  pids+=("$relay")
  for _ in $(seq 300); do [ -s "$out/map.json" ] && break; sleep 0.05; done
  ex hA sh -c "DERPHOLE_DERP_MAP='$out/map.json' DERPHOLE_JAR='$jar' '$root/bin/derphole' --verbose listen \
    2> '$out/listen.err' < /dev/null | python3 '$out/count.py' '$counts'" 2>/dev/null & # sh's "Terminated" at the end
  local lp=$!
  pids+=("$lp")
  for _ in $(seq 600); do grep -qE '^derphole pipe [A-Za-z0-9_-]{20}' "$out/listen.err" 2>/dev/null && break; sleep 0.05; done
  local token; token=$(grep '^derphole pipe ' "$out/listen.err" | awk '{print $3}')
  # Zeros are as good as random here: QUIC encrypts them, and nothing compresses.
  ex hB sh -c "head -c 1000000000000 /dev/zero | DERPHOLE_JAR='$jar' '$root/bin/derphole' --verbose pipe '$token' 2> '$out/pipe.err'" 2>/dev/null &
  local pp=$!
  pids+=("$pp")
  for _ in $(seq 600); do grep -q '^connected-direct' "$out/listen.err" 2>/dev/null && break; sleep 0.05; done
  for c in $(seq "$cycles"); do
    echo "up $(date +%s.%N)" >> "$marks"; sleep "$window"
    echo "cut $(date +%s.%N)" >> "$marks"; "$lab" cut; sleep "$window"
    "$lab" restore; echo "restore $(date +%s.%N)" >> "$marks"
  done
  "$lab" down >/dev/null # ends every process of the run, in the lab's namespaces
  wait "$pp" "$lp" "$relay" 2>/dev/null || true
  python3 - "$marks" "$counts" "$out/listen.err" "$out/pipe.err" "$label" <<'PY'
import sys
marks = [(k, float(t)) for k, t in (l.split() for l in open(sys.argv[1]))]
counts = [tuple(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
def at(t):  # bytes that had arrived by time t
    n = 0
    for ts, b in counts:
        if ts > t: break
        n = b
    return n
def fallbacks(path):  # the "connected-relay (nothing from ... for N s)" lines
    return [l for l in open(path).read().splitlines() if l.startswith("connected-relay (nothing")]
cycle = 0
for i in range(0, len(marks) - 2, 3):
    (_, up), (_, cut), (_, back) = marks[i:i + 3]
    cycle += 1
    during = [(ts, b) for ts, b in counts if cut <= ts <= back]
    longest, last_t, last_b = 0.0, cut, at(cut)
    for ts, b in during:
        if b != last_b:
            longest = max(longest, ts - last_t); last_t, last_b = ts, b
    longest = max(longest, back - last_t)
    mib_up = (at(cut) - at(up)) / 1048576
    mib_cut = (at(back) - at(cut)) / 1048576
    print(f"{sys.argv[5]:<10} cycle {cycle}: path up {cut - up:4.1f} s {mib_up:7.0f} MiB | cut {back - cut:4.1f} s "
          f"{mib_cut:7.0f} MiB ({mib_cut / mib_up * 100 if mib_up else 0:3.0f} %), longest stall {longest:5.2f} s")
print(f"{sys.argv[5]:<10} fallbacks to the relay: listen {len(fallbacks(sys.argv[3]))}, pipe {len(fallbacks(sys.argv[4]))}")
PY
}

echo "derphole across the NAT lab, direct path cut mid-transfer: $cycles cycles of ${window} s up, ${window} s cut; $(nproc) cores"
run "$root/cli/target/derphole.jar" "this build"
if [ -n "${BASE_JAR:-}" ]; then
  run "$BASE_JAR" "base"
fi
