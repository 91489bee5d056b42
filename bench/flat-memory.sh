#!/usr/bin/env bash
# Streams SIZE_GIB (default 10) GiB of zeros through derphole listen/pipe over a local relay and
# samples both processes' resident memory every second: it must stay flat however long the
# stream is (backpressure end to end). Prints min/max RSS per side, the throughput, and the
# byte count the listener confirmed.
#   bench/flat-memory.sh [SIZE_GIB] [--force-relay]
set -euo pipefail
gib=${1:-10}; flags=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/derphole-mem.XXXXXX)
pids=()
trap 'for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$out"' EXIT
[ -f "$root/cli/target/derphole.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)
"$root/bin/derper" --listen 127.0.0.1:0 --stun-port 0 --derp-map-out "$out/map.json" 2>/dev/null & pids+=($!)
for _ in $(seq 200); do [ -f "$out/map.json" ] && break; sleep 0.05; done
export DERPHOLE_DERP_MAP="$out/map.json"
"$root/bin/derphole" --verbose listen $flags > /dev/null 2> "$out/listen.err" & lpid=$!; pids+=($lpid)
for _ in $(seq 400); do grep -q '^derphole pipe ' "$out/listen.err" 2>/dev/null && break; sleep 0.05; done
token=$(grep '^derphole pipe ' "$out/listen.err" | awk '{print $3}')
start=$(date +%s.%N)
head -c $((gib * 1073741824)) /dev/zero | "$root/bin/derphole" pipe $flags "$token" & ppid=$!; pids+=($ppid)
jpid() { pgrep -f "DerpholeCommand.*$1" | head -1 || true; }
: > "$out/samples"
while kill -0 "$ppid" 2>/dev/null; do
  l=$(jpid listen); p=$(jpid "pipe $flags"); 
  echo "$(awk '/VmRSS/ {print $2}' /proc/$l/status 2>/dev/null || echo 0) $(awk '/VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)" >> "$out/samples"
  sleep 1
done
wait "$ppid"; rc=$?
end=$(date +%s.%N)
wait "$lpid" || true
python3 - "$out/samples" "$gib" "$start" "$end" "$rc" "$flags" <<'PY'
import sys
rows=[tuple(int(x) for x in l.split()) for l in open(sys.argv[1]) if l.strip()]
rows=[r for r in rows if r[0] > 0 and r[1] > 0]
gib=int(sys.argv[2]); t=float(sys.argv[4])-float(sys.argv[3])
warm=rows[len(rows)//10:] or rows   # skip the first tenth: JIT warm-up and buffers filling
print(f"{gib} GiB {sys.argv[6] or '(direct allowed)'}: pipe exit {sys.argv[5]}, {gib*8*1.073741824/t:.2f} Gbit/s over {t:.0f} s")
for name,i in (("listen",0),("pipe",1)):
    v=[r[i] for r in warm]
    print(f"  {name:6} RSS after warm-up: min {min(v)/1024:.0f} MiB, max {max(v)/1024:.0f} MiB over {len(v)} samples")
PY
grep '^stream-complete' "$out/listen.err" || true
