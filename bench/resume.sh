#!/usr/bin/env bash
# Benchmark: resume of a file transfer cut at 50 %, beside a fresh send of the same file, in one run.
#
#   bench/resume.sh [SIZE_MIB]          (default 1024)
#
# 1. fresh: derphole send/receive of a SIZE file, timed from starting the receiver until both exited;
# 2. cut: the same send again to an empty directory, the sender killed (SIGKILL) once the receiver's
#    hidden partial has passed half the size (polled, no sleep as timing);
# 3. resumed: the same send again; the receiver resumes from its verified chunks.
# For 1 and 3: wall time, QUIC's own count of the bytes the sender sent (the quic-sent-bytes
# --verbose event) and where the body started (resume-from). Every result is checked against the
# input's SHA-256. Everything runs on 127.0.0.1 through a local derper (direct path allowed).
set -euo pipefail
size_mib=${1:-1024}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
bench_workdir derphole-bench-resume
[ -f "$root/cli/target/derphole.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)

now() { date +%s.%N; }
mkdir -p "$out/src" "$out/dst"
head -c $((size_mib * 1048576)) /dev/urandom > "$out/src/in.bin"
want=$(sha256sum < "$out/src/in.bin" | cut -d' ' -f1)
check() { [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$want" ] || { echo "DIGEST MISMATCH: $1" >&2; exit 1; }; }

bench_start_derper "$out/derper.log" "$out/map.json"
pids+=("$derper_pid")
export DERPHOLE_DERP_MAP="$out/map.json"

start_send() {
  rm -f "$out/send.err"
  (cd "$out/src" && exec "$root/bin/derphole" --verbose send --hide-progress in.bin 2>"$out/send.err") &
  send_pid=$!
  for _ in $(seq 400); do grep -q '^derphole receive ' "$out/send.err" 2>/dev/null && break; sleep 0.05; done
  token=$(grep '^derphole receive ' "$out/send.err" | awk '{print $3}')
}

# Prints "<seconds> <quic-sent-bytes> <resume-from>" for one complete send/receive into $out/dst.
run() {
  start_send
  local start; start=$(now)
  (cd "$out/dst" && "$root/bin/derphole" receive --hide-progress "$token" 2>"$out/recv.err")
  wait $send_pid
  local end; end=$(now)
  check "$out/dst/in.bin"
  local sent; sent=$(sed -n 's/^quic-sent-bytes \([0-9]*\) bytes.*/\1/p' "$out/send.err")
  local from; from=$(sed -n 's/^resume-from \([0-9]*\) bytes.*/\1/p' "$out/send.err")
  python3 -c "print(f'{$end - $start:.3f} $sent ${from:-0}')"
}

partial_size() { find "$out/dst" -maxdepth 1 -name '.in.bin.derphole-*.part' -type f -printf '%s\n' | head -1; }

cut_at_half() {
  rm -rf "$out/dst" && mkdir -p "$out/dst"
  start_send
  (cd "$out/dst" && exec "$root/bin/derphole" receive --hide-progress "$token" 2>"$out/cut.err") &
  local recv=$!
  local half=$((size_mib * 1048576 / 2))
  local have=0
  while [ "$have" -lt "$half" ]; do
    sleep 0.01 # polling the partial's size, not timing anything
    have=$(partial_size); have=${have:-0}
    kill -0 $recv 2>/dev/null || { echo "bench/resume.sh: the receiver ended before the cut" >&2; cat "$out/cut.err" >&2; exit 1; }
  done
  kill -KILL $send_pid
  wait $recv || true
  wait $send_pid 2>/dev/null || true
  local kept; kept=$(partial_size)
  echo "${kept:-0}"
}

mib() { python3 -c "print(f'{$1/1048576:8.1f} MiB')"; }

echo "derphole resume benchmark: one ${size_mib} MiB file, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "$(java -version 2>&1 | head -1)"
echo
read -r t_fresh q_fresh _ < <(run)
held=$(cut_at_half)
grep -o 'kept .*' "$out/cut.err" >&2 || true
read -r t_res q_res from < <(run)
printf '%-44s %10s %14s %14s\n' "run (receiver start to both exited)" "time" "QUIC sent" "body from"
printf '%-44s %9.2fs %14s %14s\n' "fresh send" "$t_fresh" "$(mib "$q_fresh")" "0"
printf '%-44s %9.2fs %14s %14s\n' "resumed after a cut at 50 % (kept $(mib "$held" | xargs))" "$t_res" "$(mib "$q_res")" "$(mib "$from" | xargs)"
