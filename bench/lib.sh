# Helpers shared by the bench scripts; sourced (". bench/lib.sh"), not run. Needs $root.

clk_tck=$(getconf CLK_TCK)

# bench_workdir NAME: makes the run's temporary directory, $out, and on exit ends every process
# whose pid the script added to the array pids, then removes $out.
bench_workdir() {
  out=$(mktemp -d "/tmp/$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$out"
}

# utime+stime of a process or task (/proc/PID or /proc/PID/task/TID), in clock ticks. The name in
# /proc/*/stat may hold spaces, so fields are counted after its closing parenthesis.
cpu_ticks() { sed 's/^.*) //' "$1/stat" | awk '{ print $12 + $13 }'; }

# "tid ticks name" for every thread of a process (spaces in a name become _).
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s\n' "${t##*/}" "$(cpu_ticks "$t" 2>/dev/null || echo 0)" "$(tr ' ' '_' < "$t/comm" 2>/dev/null)"
  done
}

# bench_start_derper LOG MAP [FLAGS...]: starts bin/derper on a free port of 127.0.0.1 without
# STUN, its output in LOG and its DERP map in MAP; sets derper_pid. Exits the script, pointing at
# LOG, if the relay ends or writes no map within 30 s.
bench_start_derper() {
  local log=$1 map=$2
  shift 2
  rm -f "$map"
  "$root/bin/derper" --listen 127.0.0.1:0 --stun-port -1 --derp-map-out "$map" "$@" > "$log" 2>&1 &
  derper_pid=$!
  for _ in $(seq 300); do
    if [ -s "$map" ]; then return 0; fi
    if ! kill -0 "$derper_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "$(basename "$0"): derper did not start; see $log" >&2
  exit 1
}
