#!/usr/bin/env bash
# Benchmark of direct lanes (issue #34) across the NAT lab (docs/nat-lab.md), as root: SIZE_MIB
# (default 1024) through derphole listen (host A) / pipe (host B) with --parallel 1, 2, 4 and
# auto, first on the clean path, then with every UDP flow between the sites policed to
# POLICE_MBIT (default 100; lab.sh police, the kernel passes about 1.25 × that per flow); beside
# nc (openbsd), socat and wormhole-william over the same path in the same run. Each row gives
# the wall time from pipe's start to its end (JVM start, claim and promotion included), the lanes
# each side printed (lane-rate lines), and each end's CPU seconds (user + system, from bash's
# `time`) per GiB. Last, IMPAIRED_MIB (default 64; 0 skips it) with --parallel 1 and 4 through
# 50 ms delay and 2 % loss on both uplinks (lab.sh --delay 50 --loss 2); a SIZE_MIB of 0 runs
# these rows alone.
#
#   sudo bench/natlab-lanes.sh [SIZE_MIB] [POLICE_MBIT]
#
# Both sites are NAT kind "none" (hosts on the lab's internet) so that nc, socat and
# wormhole-william reach each other without port forwards, as in natlab-pipe.sh; the policer
# and the impairments act on the same path. The policer is on UDP only: TCP baselines pass it
# untouched, so they stand beside the clean rows. Needs socat; nc (Debian netcat-openbsd),
# wormhole-william and magic-wormhole's servers are optional (bench rows say "skipped").
# DERPHOLE_JAVA_OPTS is passed on to every derphole run.
set -euo pipefail
size_mib=${1:-1024}; police=${2:-100}; impaired_mib=${IMPAIRED_MIB:-64}
case "$size_mib$police$impaired_mib" in *[!0-9]*|'') echo "usage: bench/natlab-lanes.sh [SIZE_MIB] [POLICE_MBIT]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
lab="$root/test/natlab/lab.sh"
export NATLAB_ID=lanes$$
. "$root/bench/lib.sh"
bench_workdir derphole-lanesbench
trap '"$lab" down >/dev/null 2>&1 || true; sed -i "/# derphole-lanes-bench$/d" /etc/hosts; bench_cleanup' EXIT
[ -f "$root/cli/target/derphole.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)
ex() { "$lab" exec "$@"; }

head -c $((size_mib * 1048576)) /dev/urandom > "$out/in.bin"
want=$(sha256sum < "$out/in.bin" | cut -d' ' -f1)

start_relay() {
  rm -f "$out/map.json"
  ex inet "$root/bin/derper" --listen 198.51.100.1:8443 --stun-port 3478 --derp-map-out "$out/map.json" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do [ -s "$out/map.json" ] && break; sleep 0.05; done
  [ -s "$out/map.json" ] || { echo "natlab-lanes.sh: the relay wrote no map" >&2; exit 1; }
}

# timed FILE CMD...: runs CMD (in the current namespace: wrap it in `ex NODE`), appending
# "user system" CPU seconds of CMD and its children to FILE. CMD's own stdin/stdout/stderr stay.
cat > "$out/timed.sh" <<'SH'
#!/usr/bin/env bash
cpu=$1; shift
TIMEFORMAT='%3U %3S'
{ time "$@" 2>&3; } 3>&2 2>"$cpu"
SH
chmod +x "$out/timed.sh"

# Prints "<Mbit/s> <seconds> <CPU s/GiB listen> <CPU s/GiB pipe> <lanes>" for one session of
# FILE (SIZE MiB) with FLAGS on both sides; exits the script when the bytes differ.
session() {
  local input=$1 mib=$2; shift 2
  local flags="$*"
  rm -f "$out/listen.err" "$out/pipe.err" "$out/listen.cpu" "$out/pipe.cpu" "$out/got.sha"
  ex hA env DERPHOLE_DERP_MAP="$out/map.json" "$out/timed.sh" "$out/listen.cpu" "$root/bin/derphole" --verbose listen $flags \
    2> "$out/listen.err" < /dev/null | sha256sum > "$out/got.sha" &
  local lp=$!
  for _ in $(seq 600); do grep -q '^derphole pipe ' "$out/listen.err" 2>/dev/null && break; sleep 0.05; done
  local token; token=$(grep '^derphole pipe ' "$out/listen.err" | awk '{print $3}')
  [ -n "$token" ] || { echo "natlab-lanes.sh: listen $flags gave no token: $(tail -n 3 "$out/listen.err")" >&2; exit 1; }
  local s; s=$(date +%s.%N)
  ex hB "$out/timed.sh" "$out/pipe.cpu" "$root/bin/derphole" --verbose pipe $flags "$token" < "$input" 2> "$out/pipe.err"
  local e; e=$(date +%s.%N)
  wait $lp
  [ "$(cut -d' ' -f1 "$out/got.sha")" = "$(sha256sum < "$input" | cut -d' ' -f1)" ] || {
    echo "natlab-lanes.sh: DIGEST MISMATCH with $flags" >&2; exit 1; }
  python3 - "$s" "$e" "$mib" "$out/listen.cpu" "$out/pipe.cpu" "$out/listen.err" "$out/pipe.err" <<'PY'
import re, sys
s, e, mib = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
cpu = [sum(map(float, open(f).read().split()[-2:])) for f in sys.argv[4:6]]
lanes = {}
for f in sys.argv[6:8]:
    for m in re.finditer(r"(?m)^lane-rate (\d+) (\d+) bytes (\S+) Mbit/s", open(f).read()):
        lanes.setdefault(int(m.group(1)), m.group(3))
direct = any(l.startswith("connected-direct ") for l in open(sys.argv[6]))
desc = ",".join(f"{i}:{r}" for i, r in sorted(lanes.items())) or "none_printed"
print(f"{mib * 1048576 * 8 / (e - s) / 1e6:.0f} {e - s:.2f} {cpu[0] / mib * 1024:.1f} {cpu[1] / mib * 1024:.1f} "
      f"{'direct' if direct else 'relay'} {len(lanes) or '-'} {desc}")
PY
}

row() { # LABEL then session's fields
  local label=$1 mbit=$2 secs=$3 cl=$4 cp=$5 path=$6 n=$7 desc=$8
  printf '%-34s %6s Mbit/s %8s s   CPU s/GiB listen %5s pipe %5s   %-6s lanes %s (Mbit/s each: %s)\n' \
    "$label" "$mbit" "$secs" "$cl" "$cp" "$path" "$n" "$desc"
}
tcp_row() { # LABEL SECONDS CPU_RECV_FILE CPU_SEND_FILE
  python3 - "$1" "$2" "$3" "$4" "$size_mib" <<'PY'
import sys
label, t, mib = sys.argv[1], float(sys.argv[2]), float(sys.argv[5])
cpu = [sum(map(float, open(f).read().split()[-2:])) for f in sys.argv[3:5]]
print(f"{label:<34} {mib * 1048576 * 8 / t / 1e6:6.0f} Mbit/s {t:8.2f} s   CPU s/GiB recv   {cpu[0] / mib * 1024:5.1f} send {cpu[1] / mib * 1024:5.1f}")
PY
}
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }

echo "direct lanes across the NAT lab: ${size_mib} MiB, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$size_mib" -gt 0 ]; then
"$lab" up none none >/dev/null
start_relay

echo "-- clean path"
for p in 1 2 4 auto; do
  row "derphole pipe --parallel $p" $(session "$out/in.bin" "$size_mib" --parallel $p)
done

ex hA "$out/timed.sh" "$out/recv.cpu" socat -b 1048576 -u TCP-LISTEN:9000,reuseaddr CREATE:"$out/socat.out" & sp=$!
sleep 0.3; s=$(date +%s.%N)
ex hB "$out/timed.sh" "$out/send.cpu" socat -b 1048576 -u OPEN:"$out/in.bin" TCP:198.51.100.10:9000,retry=20,interval=0.05
wait $sp; e=$(date +%s.%N)
[ "$(sha256sum < "$out/socat.out" | cut -d' ' -f1)" = "$want" ] || { echo "socat digest mismatch" >&2; exit 1; }
rm -f "$out/socat.out"
tcp_row "socat TCP (ceiling)" "$(elapsed "$s" "$e")" "$out/recv.cpu" "$out/send.cpu"

if command -v nc >/dev/null && nc -h 2>&1 | grep -qi openbsd; then
  # -N: shut the socket down at end of input, so the listener sees EOF and exits.
  ex hA "$out/timed.sh" "$out/recv.cpu" sh -c "exec nc -l 9001 > '$out/nc.out'" & np=$!
  sleep 0.3; s=$(date +%s.%N)
  ex hB "$out/timed.sh" "$out/send.cpu" nc -N 198.51.100.10 9001 < "$out/in.bin"
  wait $np; e=$(date +%s.%N)
  [ "$(sha256sum < "$out/nc.out" | cut -d' ' -f1)" = "$want" ] || { echo "nc digest mismatch" >&2; exit 1; }
  rm -f "$out/nc.out"
  tcp_row "nc (openbsd) TCP" "$(elapsed "$s" "$e")" "$out/recv.cpu" "$out/send.cpu"
else
  printf '%-34s %s\n' "nc (openbsd)" "skipped: not installed (apt-get install netcat-openbsd)"
fi

if command -v wormhole-william >/dev/null && [ -x /usr/bin/twist3 ]; then
  (cd "$out" && ex inet /usr/bin/twist3 wormhole-mailbox --port=tcp:4000:interface=198.51.100.1 >/dev/null 2>&1) &
  pids+=($!)
  (cd "$out" && ex inet /usr/bin/twist3 transitrelay --port=tcp:4001:interface=198.51.100.1 >/dev/null 2>&1) &
  pids+=($!)
  for _ in $(seq 200); do ex inet ss -Hltn 'sport = 4000' | grep -q . && ex inet ss -Hltn 'sport = 4001' | grep -q . && break; sleep 0.05; done
  # wormhole-william looks up transit.magic-wormhole.io: point it at the lab relay for this run.
  echo "198.51.100.1 transit.magic-wormhole.io # derphole-lanes-bench" >> /etc/hosts
  mkdir -p "$out/ww"
  s=$(date +%s.%N)
  ex hB "$out/timed.sh" "$out/send.cpu" wormhole-william --relay-url ws://198.51.100.1:4000/v1 send --hide-progress --code 7-lanes-lab "$out/in.bin" >/dev/null 2>&1 & wp=$!
  (cd "$out/ww" && { yes || true; } | ex hA "$out/timed.sh" "$out/recv.cpu" wormhole-william --relay-url ws://198.51.100.1:4000/v1 recv --hide-progress 7-lanes-lab >/dev/null 2>&1)
  wait $wp; e=$(date +%s.%N)
  sed -i '/# derphole-lanes-bench$/d' /etc/hosts
  [ "$(sha256sum < "$out/ww/in.bin" | cut -d' ' -f1)" = "$want" ] || { echo "wormhole digest mismatch" >&2; exit 1; }
  rm -rf "$out/ww"
  tcp_row "wormhole-william (local servers)" "$(elapsed "$s" "$e")" "$out/recv.cpu" "$out/send.cpu"
else
  printf '%-34s %s\n' "wormhole-william" "skipped: not installed (docs/benchmarks.md, BENCH baselines)"
fi

echo "-- every UDP flow between the sites policed to $police Mbit/s (lab.sh police $police)"
"$lab" police "$police"
for p in 1 2 4 auto; do
  row "derphole pipe --parallel $p" $(session "$out/in.bin" "$size_mib" --parallel $p)
done
"$lab" unpolice
"$lab" down >/dev/null

fi

if [ "$impaired_mib" -gt 0 ]; then
  echo "-- 50 ms delay and 2 % loss on both uplinks, ${impaired_mib} MiB"
  head -c $((impaired_mib * 1048576)) /dev/urandom > "$out/small.bin"
  "$lab" up none none --delay 50 --loss 2 >/dev/null
  start_relay
  for p in 1 4; do
    row "derphole pipe --parallel $p" $(session "$out/small.bin" "$impaired_mib" --parallel $p)
  done
  "$lab" down >/dev/null
fi
