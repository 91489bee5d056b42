#!/usr/bin/env bash
# Benchmark of the distribution (dist/): sizes, start-up of the bundle against the checkout, and
# a pipe between an arm64 end under qemu-user and an x86-64 end.
#
#   bench/dist.sh [ARM_MIB] [ROUNDS]      (defaults 1024 and 5; ARM_MIB 0 leaves the pipe out)
#
# Prints, all from this run:
#   - the size of each tarball and npm package in dist/target (goal: a tarball of at most 60 MB);
#   - `derphole version`, and `listen` until its token is printed (our relay on loopback), from the
#     linux-x64 bundle and from the checkout's bin/derphole (with its class archive: a plain
#     `mvn package`), ROUNDS times each, interleaved (goal: the bundle no slower);
#   - ARM_MIB MiB from `pipe` on the x86-64 checkout to `listen` on the linux-arm64 bundle under
#     qemu-user, SHA-256 checked: a figure only, CPU emulation is slow.
# Needs dist/target from `mvn -B package -Pdist` and `dist/arm64.sh setup`.
set -euo pipefail
arm_mib=${1:-1024}
rounds=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
bench_workdir derphole-bench-dist
t=$root/dist/target
x64=$(ls "$t"/derphole-*-linux-x64.tar.gz) arm=$(ls "$t"/derphole-*-linux-arm64.tar.gz) ||
  { echo "bench/dist.sh: no bundles in dist/target; run mvn -B package -Pdist" >&2; exit 1; }
now() { date +%s.%N; }
ms() { python3 -c "print(round(($2 - $1) * 1000))"; }

echo "== sizes (MB = 10^6 bytes)"
for f in "$t"/*.tar.gz "$t"/npm/*.tgz; do
  printf '%-60s %6.1f MB\n' "${f#"$t"/}" "$(python3 -c "import os; print(os.path.getsize('$f') / 1e6)")"
done

tar -xzf "$x64" -C "$out"
tar -xzf "$arm" -C "$out"
bundle_bin=$(echo "$out"/derphole-*-linux-x64/bin)
arm_bin=$(echo "$out"/derphole-*-linux-arm64/bin)
bench_start_derper "$out/derper.log" "$out/map.json"
pids+=("$derper_pid")
export DERPHOLE_DERP_MAP=$out/map.json

# token_ms BIN: ms from starting `BIN/derphole listen --print-token-only` to its token, and the
# CPU ms (user + system, every thread) the process had used by then, as WALL/CPU. The launchers
# exec java, so the process started is the JVM. CPU time moves less than wall time when the
# machine is shared.
token_ms() {
  local err=$out/listen.err start p cpu
  : >"$err"  # now, not in the child: the last round's token must not count
  start=$(now)
  "$1/derphole" listen --print-token-only </dev/null >/dev/null 2>"$err" &
  p=$!
  until grep -q '^dhoB' "$err" 2>/dev/null; do
    kill -0 "$p" 2>/dev/null || { echo "listen ended without a token: $(cat "$err")" >&2; return 1; }
    sleep 0.005
  done
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$p/stat")
  echo "$(ms "$start" "$(now)")/$cpu"
  kill "$p"; wait "$p" 2>/dev/null || true
}
version_ms() {
  local start
  start=$(now)
  "$1/derphole" version >/dev/null
  ms "$start" "$(now)"
}
echo "== start-up, ms, $rounds rounds interleaved (bundle | checkout)"
bv=() cv=() bt=() ct=()
for ((i = 0; i < rounds; i++)); do
  bv+=("$(version_ms "$bundle_bin")"); cv+=("$(version_ms "$root/bin")")
  bt+=("$(token_ms "$bundle_bin")"); ct+=("$(token_ms "$root/bin")")
done
echo "derphole version      bundle: ${bv[*]}   checkout: ${cv[*]}"
echo "listen until token, wall/CPU ms    bundle: ${bt[*]}   checkout: ${ct[*]}"

[ "$arm_mib" -gt 0 ] || exit 0
echo "== $arm_mib MiB pipe: x86-64 checkout -> linux-arm64 bundle under qemu-user"
export QEMU_LD_PREFIX
QEMU_LD_PREFIX=$("$root/dist/arm64.sh" setup)
head -c $((arm_mib << 20)) /dev/urandom >"$out/in.bin"
want=$(sha256sum <"$out/in.bin" | cut -d' ' -f1)
# The emulated end as a user runs it: epoll, whose batched reads fail under qemu-user and fall back
# to one datagram per read (Arm64IT says more).
"$arm_bin/derphole" --verbose listen </dev/null 2>"$out/arm.err" | sha256sum >"$out/got.sha" &
arm_pid=$!
until grep -Eq '^derphole pipe dhoB' "$out/arm.err" 2>/dev/null; do
  kill -0 "$arm_pid" 2>/dev/null || { cat "$out/arm.err" >&2; exit 1; }
  sleep 0.05
done
token=$(grep -Eo 'dhoB[A-Za-z0-9_-]+' "$out/arm.err" | head -1)
start=$(now)
"$root/bin/derphole" pipe "$token" <"$out/in.bin" 2>"$out/pipe.err"
wait "$arm_pid"
end=$(now)
[ "$(cut -d' ' -f1 "$out/got.sha")" = "$want" ] || { echo "SHA-256 differs" >&2; exit 1; }
python3 -c "s=$end-$start; print(f'{$arm_mib} MiB in {s:.1f} s, {$arm_mib*8*1.048576/s:.0f} Mbit/s (SHA-256 equal)')"
grep -E '^connected-(direct|relay)' "$out/arm.err" | sed 's/^/arm64 listen: /' || true
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
