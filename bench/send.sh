#!/usr/bin/env bash
# Benchmark: derphole send/receive of one file beside wormhole-william send/receive, in one run.
#
#   bench/send.sh [SIZE_MIB]          (default 1024)
#
# Prints one table: wall time and throughput of sending a SIZE file, from starting the receiver
# (JVM start, claim and connect included) until both sides have exited and the file is in place:
#   - derphole over our local relay only (--force-relay), and with the direct path allowed
#     (on one machine the direct path is loopback UDP);
#   - wormhole-william with a local mailbox and transit relay (apt: wormhole-william
#     magic-wormhole-transit-relay python3-magic-wormhole-mailbox-server), if installed;
#   - socat -> socat TCP relay -> socat, the plain-TCP ceiling of a relayed file transfer.
# Every received file is checked against the input's SHA-256. Everything runs on 127.0.0.1 and is
# cleaned up on exit (including the /etc/hosts line wormhole-william needs, see BENCH notes).
set -euo pipefail
size_mib=${1:-1024}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/derphole-bench-send.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sed -i '/# derphole-bench$/d' /etc/hosts 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
command -v socat >/dev/null || { echo "bench/send.sh: needs socat (apt-get install -y socat)" >&2; exit 1; }
[ -f "$root/cli/target/derphole.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)

now() { date +%s.%N; }
rate() { python3 -c "import sys; b=$1*1048576; t=$2; print(f'{b*8/t/1e6:9.0f} Mbit/s  {t:7.2f} s')"; }

mkdir -p "$out/src"
head -c $((size_mib * 1048576)) /dev/urandom > "$out/src/in.bin"
want=$(sha256sum < "$out/src/in.bin" | cut -d' ' -f1)
check() { [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$want" ] || { echo "DIGEST MISMATCH: $1" >&2; exit 1; }; }

"$root/bin/derper" --listen 127.0.0.1:0 --stun-port 0 --derp-map-out "$out/map.json" 2>"$out/derper.err" &
pids+=($!)
for _ in $(seq 200); do [ -f "$out/map.json" ] && break; sleep 0.05; done
export DERPHOLE_DERP_MAP="$out/map.json"

# One derphole send/receive; prints "<seconds> <path>". Timed from starting receive (the sender is
# already waiting with its token, as a person would have it) until both have exited.
derphole_run() {
  local flags=$1
  rm -rf "$out/dst" && mkdir -p "$out/dst"
  rm -f "$out/send.err"
  (cd "$out/src" && "$root/bin/derphole" --verbose send --hide-progress $flags in.bin 2>"$out/send.err") &
  local sp=$!
  for _ in $(seq 400); do grep -q '^derphole receive ' "$out/send.err" 2>/dev/null && break; sleep 0.05; done
  local token; token=$(grep '^derphole receive ' "$out/send.err" | awk '{print $3}')
  local start; start=$(now)
  (cd "$out/dst" && "$root/bin/derphole" receive --hide-progress $flags "$token" 2>"$out/recv.err")
  wait $sp
  local end; end=$(now)
  check "$out/dst/in.bin"
  local path=relay; grep -q '^connected-direct' "$out/send.err" && path=direct
  python3 -c "print(f'{$end - $start:.3f} $path')"
}

wormhole_run() {
  command -v wormhole-william >/dev/null && [ -x /usr/bin/twist3 ] || { echo "skipped"; return; }
  # Removed by cleanup whoever added it (this function runs in a subshell).
  grep -q 'transit.magic-wormhole.io' /etc/hosts || echo "127.0.0.1 transit.magic-wormhole.io # derphole-bench" >> /etc/hosts
  # The mailbox server keeps its database (relay.sqlite) in its working directory: keep it in $out.
  (cd "$out" && exec /usr/bin/twist3 wormhole-mailbox --port=tcp:4000:interface=127.0.0.1 >/dev/null 2>&1) & pids+=($!)
  (cd "$out" && exec /usr/bin/twist3 transitrelay --port=tcp:4001:interface=127.0.0.1 >/dev/null 2>&1) & pids+=($!)
  for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/4000) 2>/dev/null && break; sleep 0.05; done
  rm -rf "$out/ww" && mkdir -p "$out/ww"
  (cd "$out/src" && wormhole-william --relay-url ws://127.0.0.1:4000/v1 send --hide-progress --code 7-bench-test in.bin >/dev/null 2>&1) &
  local s=$!
  sleep 1 # the sender must have claimed the code in the mailbox before the receiver asks for it
  local start; start=$(now)
  (cd "$out/ww" && { yes || true; } | wormhole-william --relay-url ws://127.0.0.1:4000/v1 recv --hide-progress 7-bench-test >/dev/null 2>&1)
  wait $s; local end; end=$(now)
  # This runs in a command substitution (a subshell): end the servers here, not in cleanup.
  kill "${pids[@]: -2}" 2>/dev/null || true
  check "$out/ww/in.bin"
  python3 -c "print(f'{$end - $start:.3f}')"
}

socat_relay_run() {
  local port_a=$((20000 + RANDOM % 20000)) port_b=$((40000 + RANDOM % 20000))
  socat -b 1048576 TCP-LISTEN:$port_a,bind=127.0.0.1,reuseaddr TCP-LISTEN:$port_b,bind=127.0.0.1,reuseaddr &
  local relay=$!
  sleep 0.2
  socat -b 1048576 -u TCP:127.0.0.1:$port_b,retry=50,interval=0.05 CREATE:"$out/socat.out" &
  local recv=$!
  local start; start=$(now)
  socat -b 1048576 -u OPEN:"$out/src/in.bin" TCP:127.0.0.1:$port_a,retry=50,interval=0.05
  wait $recv; local end; end=$(now)
  wait $relay 2>/dev/null || true
  check "$out/socat.out"
  python3 -c "print(f'{$end - $start:.3f}')"
}

echo "derphole send/receive benchmark: one ${size_mib} MiB file, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "$(java -version 2>&1 | head -1)"
echo
printf '%-52s %s\n' "transfer (receiver start to both exited, verified)" "throughput / time"
read -r t p < <(derphole_run --force-relay); printf '%-52s %s\n' "derphole send/receive, relay only (--force-relay)" "$(rate $size_mib $t)"
read -r t p < <(derphole_run ""); printf '%-52s %s  (path: %s)\n' "derphole send/receive, direct allowed" "$(rate $size_mib $t)" "$p"
w=$(wormhole_run); if [ "$w" = skipped ]; then printf '%-52s %s\n' "wormhole-william send/recv (local servers)" "skipped: not installed"; else printf '%-52s %s\n' "wormhole-william send/recv (local servers)" "$(rate $size_mib $w)"; fi
t=$(socat_relay_run); printf '%-52s %s\n' "socat -> socat TCP relay -> socat (ceiling)" "$(rate $size_mib $t)"
