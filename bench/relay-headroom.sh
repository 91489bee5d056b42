#!/usr/bin/env bash
# Benchmark: is our DERP relay the bottleneck of a real derphole transfer?
#
#   bench/relay-headroom.sh [SIZE_MIB] [ROUNDS]      (defaults 1024 and 2)
#
# derp-relay.sh measures how much the relay forwards when its clients do nothing but send. This
# script measures what a user's transfer asks of it: `derphole pipe --force-relay` of SIZE_MIB
# random bytes to `derphole listen` (SHA-256 checked) through bin/derper with TLS (its default,
# self-signed and pinned) and with --plain-http, and beside them the same bytes through a socat
# relay hop (socat -> socat -> socat, plain TCP). For each it prints the throughput and the CPU
# the relay process used while the bytes moved (cores = CPU seconds / wall seconds), the CPU of
# the two end processes, and the relay's CPU seconds per GiB, for the whole relay process and for
# its event-loop threads alone (the forwarding, without the JIT's compiler threads). ROUNDS
# repeats the whole set, interleaved, because this machine is noisy. Everything runs on 127.0.0.1
# and is cleaned up.
set -euo pipefail
size_mib=${1:-1024}
rounds=${2:-2}
case "$size_mib$rounds" in *[!0-9]*|'') echo "usage: bench/relay-headroom.sh [SIZE_MIB] [ROUNDS]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
bench_workdir derphole-headroom
command -v socat >/dev/null || { echo "bench/relay-headroom.sh: needs socat (apt-get install -y socat)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/relay-headroom.sh: needs /usr/bin/time (apt-get install -y time)" >&2; exit 1; }
[ -f "$root/cli/target/derphole.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)

head -c $((size_mib * 1048576)) /dev/urandom > "$out/in.bin"
want=$(sha256sum < "$out/in.bin" | cut -d' ' -f1)

now() { date +%s.%N; }
# CPU seconds (user + system) a live process has used so far.
cpu_of() { awk -v t="$clk_tck" -v n="$(cpu_ticks "/proc/$1")" 'BEGIN { print n / t }'; }
# CPU seconds of the relay's event-loop threads (derp-io-*), the forwarding itself: the rest of
# the process is mostly the JIT compiling, which a long-lived relay stops paying.
cpu_io() { thread_ticks "$1" | awk -v t="$clk_tck" '$3 ~ /^derp-io/ { n += $2 } END { print n / t }'; }
# CPU seconds of a finished command, from /usr/bin/time's file.
cpu_file() { awk '{ print $1 + $2 }' "$1"; }

# Starts a derper with the given flags; sets derper_pid and exports its map.
start_derper() {
  bench_start_derper "$out/derper.err" "$out/map.json" "$@"
  pids+=("$derper_pid")
  export DERPHOLE_DERP_MAP="$out/map.json"
}

stop_derper() { kill "$derper_pid" 2>/dev/null || true; wait "$derper_pid" 2>/dev/null || true; }

# One relay-only transfer; prints "<wall s> <relay cpu s> <ends cpu s> <relay io-thread cpu s>".
derphole_run() {
  rm -f "$out/listen.err" "$out/got.sha" "$out/listen.cpu" "$out/pipe.cpu"
  (/usr/bin/time -f '%U %S' -o "$out/listen.cpu" "$root/bin/derphole" --verbose listen --force-relay \
     2>"$out/listen.err" | sha256sum | cut -d' ' -f1 > "$out/got.sha") &
  local lp=$!
  for _ in $(seq 400); do grep -q '^derphole pipe ' "$out/listen.err" 2>/dev/null && break; sleep 0.05; done
  local token; token=$(grep '^derphole pipe ' "$out/listen.err" | awk '{print $3}')
  [ -n "$token" ] || { echo "listen printed no token:" >&2; cat "$out/listen.err" >&2; exit 1; }
  local c0 i0; c0=$(cpu_of "$derper_pid"); i0=$(cpu_io "$derper_pid")
  local start; start=$(now)
  /usr/bin/time -f '%U %S' -o "$out/pipe.cpu" "$root/bin/derphole" pipe --force-relay "$token" < "$out/in.bin"
  wait $lp
  local end; end=$(now)
  local c1 i1; c1=$(cpu_of "$derper_pid"); i1=$(cpu_io "$derper_pid")
  [ "$(cat "$out/got.sha")" = "$want" ] || { echo "DIGEST MISMATCH" >&2; exit 1; }
  grep -q '^connected-direct' "$out/listen.err" && { echo "went direct despite --force-relay" >&2; exit 1; }
  python3 -c "print(f'{$end - $start:.3f} {$c1 - $c0:.3f} {$(cpu_file "$out/listen.cpu") + $(cpu_file "$out/pipe.cpu"):.3f} {$i1 - $i0:.3f}')"
}

# The same bytes through socat -> socat relay -> socat; prints "<wall s> <relay cpu s> <ends cpu s>"
# and, for the table's io-thread column, the relay's CPU again (socat is one thread).
socat_run() {
  local port_a=$((20000 + RANDOM % 20000)) port_b=$((40000 + RANDOM % 20000))
  /usr/bin/time -f '%U %S' -o "$out/relay.cpu" \
    socat -b 1048576 TCP-LISTEN:$port_a,bind=127.0.0.1,reuseaddr TCP-LISTEN:$port_b,bind=127.0.0.1,reuseaddr &
  local relay=$!
  sleep 0.2
  /usr/bin/time -f '%U %S' -o "$out/recv.cpu" \
    socat -b 1048576 -u TCP:127.0.0.1:$port_b,retry=50,interval=0.05 CREATE:"$out/socat.out" &
  local recv=$!
  local start; start=$(now)
  /usr/bin/time -f '%U %S' -o "$out/send.cpu" \
    socat -b 1048576 -u OPEN:"$out/in.bin" TCP:127.0.0.1:$port_a,retry=50,interval=0.05
  wait $recv; local end; end=$(now)
  wait $relay 2>/dev/null || true
  [ "$(sha256sum < "$out/socat.out" | cut -d' ' -f1)" = "$want" ] || { echo "socat digest mismatch" >&2; exit 1; }
  rm -f "$out/socat.out"
  python3 -c "print(f'{$end - $start:.3f} {$(cpu_file "$out/relay.cpu"):.3f} {$(cpu_file "$out/send.cpu") + $(cpu_file "$out/recv.cpu"):.3f} {$(cpu_file "$out/relay.cpu"):.3f}')"
}

row() { # label wall relay_cpu ends_cpu relay_io_cpu
  [ -n "${5:-}" ] || { echo "bench/relay-headroom.sh: a run failed (see above)" >&2; exit 1; }
  python3 -c "
mib, t, r, e, i = $size_mib, $2, $3, $4, $5
gib = mib / 1024
print(f'{\"$1\":<40} {mib * 8 * 1048576 / t / 1e6:8.0f} {r / t:8.2f} {i / t:8.2f} {e / t:8.2f} {r / gib:8.2f} {i / gib:8.2f}')"
}

echo "relay headroom: ${size_mib} MiB per transfer, ${rounds} round(s), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "$(java -version 2>&1 | head -1); $(socat -V 2>/dev/null | grep -m1 'socat version' || echo socat)"
echo
printf '%-40s %8s %8s %8s %8s %8s %8s\n' "transfer" "Mbit/s" "relay" "relay io" "ends" "relay" "relay io"
printf '%-40s %8s %8s %8s %8s %8s %8s\n' "" "" "cores" "cores" "cores" "s/GiB" "s/GiB"
for r in $(seq "$rounds"); do
  start_derper
  derphole_run > /dev/null  # warm-up: the relay's JIT, not measured
  read -r t c e i < <(derphole_run); row "derphole pipe via derper, TLS (round $r)" "$t" "$c" "$e" "$i"
  stop_derper
  start_derper --plain-http
  derphole_run > /dev/null
  read -r t c e i < <(derphole_run); row "derphole pipe via derper, plain (round $r)" "$t" "$c" "$e" "$i"
  stop_derper
  read -r t c e i < <(socat_run); row "socat -> socat relay -> socat (round $r)" "$t" "$c" "$e" "$i"
done
