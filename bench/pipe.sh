#!/usr/bin/env bash
# Benchmark: derphole listen/pipe beside plain-TCP and wormhole-william baselines, in one run.
#
#   bench/pipe.sh [SIZE_MIB]          (default 1024)
#
# Prints one table: throughput of SIZE through
#   - derphole over our local relay only (--force-relay), and with the direct path allowed
#     (on one machine the direct path is loopback UDP);
#   - socat -> socat TCP relay -> socat (the unencrypted plain-TCP ceiling of a relayed transfer);
#   - wormhole-william with a local mailbox and transit relay (apt: wormhole-william
#     magic-wormhole-transit-relay python3-magic-wormhole-mailbox-server), if installed;
# and the time from starting `pipe` (JVM start included) to the first byte out of `listen`.
# Every figure comes from this run. Needs: socat, python3; wormhole rows are skipped (and say so)
# when wormhole-william is missing. Everything runs on 127.0.0.1 and is cleaned up on exit.
set -euo pipefail
size_mib=${1:-1024}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/derphole-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sed -i '/# derphole-bench$/d' /etc/hosts 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
command -v socat >/dev/null || { echo "bench/pipe.sh: needs socat (apt-get install -y socat)" >&2; exit 1; }
[ -f "$root/cli/target/derphole.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)

now() { date +%s.%N; }
rate() { python3 -c "import sys; b=$1*1048576; t=$2; print(f'{b*8/t/1e6:9.0f} Mbit/s  {t:7.2f} s')"; }

head -c $((size_mib * 1048576)) /dev/urandom > "$out/in.bin"
want=$(sha256sum < "$out/in.bin" | cut -d' ' -f1)

"$root/bin/derper" --listen 127.0.0.1:0 --stun-port 0 --derp-map-out "$out/map.json" 2>"$out/derper.err" &
pids+=($!)
for _ in $(seq 200); do [ -f "$out/map.json" ] && break; sleep 0.05; done
export DERPHOLE_DERP_MAP="$out/map.json"

# One derphole transfer; prints "<seconds> <ttfb seconds> <path>".
derphole_run() {
  local flags=$1 input=$2
  rm -f "$out/listen.err" "$out/first" "$out/got.sha"
  ("$root/bin/derphole" --verbose listen $flags 2>"$out/listen.err" \
     | python3 -c "
import sys, time, hashlib
h = hashlib.sha256(); first = None
while True:
    b = sys.stdin.buffer.read1(1 << 20)
    if not b: break
    if first is None:
        first = time.time(); open('$out/first', 'w').write(repr(first))
    h.update(b)
open('$out/got.sha', 'w').write(h.hexdigest())") &
  local lp=$!
  for _ in $(seq 400); do grep -q '^derphole pipe ' "$out/listen.err" 2>/dev/null && break; sleep 0.05; done
  local token; token=$(grep '^derphole pipe ' "$out/listen.err" | awk '{print $3}')
  local start; start=$(now)
  "$root/bin/derphole" pipe $flags "$token" < "$input"
  local end; end=$(now)
  wait $lp
  local got; got=$(cat "$out/got.sha")
  [ "$got" = "$(sha256sum < "$input" | cut -d' ' -f1)" ] || { echo "DIGEST MISMATCH" >&2; exit 1; }
  local path=relay; grep -q '^connected-direct' "$out/listen.err" && path=direct
  python3 -c "print(f'{$end - $start:.3f} {float(open(\"$out/first\").read()) - $start:.3f} $path')"
}

socat_relay_run() {
  local port_a=$((20000 + RANDOM % 20000)) port_b=$((40000 + RANDOM % 20000))
  socat -b 1048576 TCP-LISTEN:$port_a,bind=127.0.0.1,reuseaddr TCP-LISTEN:$port_b,bind=127.0.0.1,reuseaddr &
  local relay=$!
  sleep 0.2
  socat -b 1048576 -u TCP:127.0.0.1:$port_b,retry=50,interval=0.05 CREATE:"$out/socat.out" &
  local recv=$!
  local start; start=$(now)
  socat -b 1048576 -u OPEN:"$out/in.bin" TCP:127.0.0.1:$port_a,retry=50,interval=0.05
  wait $recv; local end; end=$(now)
  wait $relay 2>/dev/null || true
  [ "$(sha256sum < "$out/socat.out" | cut -d' ' -f1)" = "$want" ] || { echo "socat digest mismatch" >&2; exit 1; }
  python3 -c "print(f'{$end - $start:.3f}')"
}

wormhole_run() {
  command -v wormhole-william >/dev/null && [ -x /usr/bin/twist3 ] || { echo "skipped"; return; }
  # Removed by cleanup whoever added it (this function runs in a subshell).
  grep -q 'transit.magic-wormhole.io' /etc/hosts || echo "127.0.0.1 transit.magic-wormhole.io # derphole-bench" >> /etc/hosts
  (cd "$out" && exec /usr/bin/twist3 wormhole-mailbox --port=tcp:4000:interface=127.0.0.1 >/dev/null 2>&1) & pids+=($!)
  (cd "$out" && exec /usr/bin/twist3 transitrelay --port=tcp:4001:interface=127.0.0.1 >/dev/null 2>&1) & pids+=($!)
  sleep 2
  mkdir -p "$out/ww" && cd "$out/ww"
  local start; start=$(now)
  wormhole-william --relay-url ws://127.0.0.1:4000/v1 send --hide-progress --code 7-bench-test "$out/in.bin" >/dev/null 2>&1 &
  local s=$!
  { yes || true; } | wormhole-william --relay-url ws://127.0.0.1:4000/v1 recv --hide-progress 7-bench-test >/dev/null 2>&1
  wait $s; local end; end=$(now)
  cd - >/dev/null
  # This runs in a command substitution (a subshell): end the servers here, not in cleanup.
  kill "${pids[@]: -2}" 2>/dev/null || true
  [ "$(sha256sum < "$out/ww/in.bin" | cut -d' ' -f1)" = "$want" ] || { echo "wormhole digest mismatch" >&2; exit 1; }
  python3 -c "print(f'{$end - $start:.3f}')"
}

printf 'x' > "$out/one.bin"
echo "derphole listen/pipe benchmark: ${size_mib} MiB, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "$(java -version 2>&1 | head -1)"
echo
printf '%-46s %s\n' "transfer" "throughput / time"
read -r t ttfb p < <(derphole_run --force-relay "$out/in.bin"); printf '%-46s %s\n' "derphole pipe, relay only (--force-relay)" "$(rate $size_mib $t)"
read -r t ttfb p < <(derphole_run "" "$out/in.bin"); printf '%-46s %s  (path: %s)\n' "derphole pipe, direct allowed" "$(rate $size_mib $t)" "$p"
t=$(socat_relay_run); printf '%-46s %s\n' "socat -> socat TCP relay -> socat (baseline)" "$(rate $size_mib $t)"
w=$(wormhole_run); if [ "$w" = skipped ]; then printf '%-46s %s\n' "wormhole-william (local servers)" "skipped: not installed"; else printf '%-46s %s\n' "wormhole-william (local servers)" "$(rate $size_mib $w)"; fi
echo
read -r t ttfb p < <(derphole_run --force-relay "$out/one.bin"); printf '%-46s %6.3f s (1 byte, whole pipe run %.3f s)\n' "time to first byte out of listen, relay" "$ttfb" "$t"
read -r t ttfb p < <(derphole_run "" "$out/one.bin"); printf '%-46s %6.3f s (1 byte, whole pipe run %.3f s)\n' "time to first byte out of listen, default" "$ttfb" "$t"
