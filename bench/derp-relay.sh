#!/usr/bin/env bash
# DERP relay benchmark: packets/s and Gbit/s through our derper, beside a plain TCP relay (socat)
# measured in the same run, all on 127.0.0.1.
#
#   bench/derp-relay.sh                       # ~4 minutes on a quiet machine; Markdown table on stdout
#   DURATION=10 SIZES="1200 65536" WINDOWS=64 bench/derp-relay.sh
#
# Needs java 17 and Maven (it builds the jars when missing), socat, and openssl for the TLS
# baseline's certificate; it installs nothing:
#   apt-get install -y socat openssl
#
# What it runs, each for WARMUP + DURATION seconds:
#   - bench/TcpRelayBaseline: N senders -> socat TCP-LISTEN,fork -> sink, for each N in PAIRS;
#     when MODES has tls, also the same over TLS on every hop (socat senders, a socat relay that
#     ends each TLS connection and opens its own, a socat sink; certificate from openssl), the
#     work a TLS relay does. The plain socat run stays the baseline of every row; TLS rows also
#     show their ratio to the TLS one.
#   - bin/derper (TLS with its self-signed certificate, then --plain-http), and against each
#     bench/DerpRelayBench: N sender clients -> derper -> N receiver clients, for each N in PAIRS,
#     each packet size in SIZES (1200: one QUIC datagram; 16384: what derphole's QUIC sends over a
#     relay, a dozen datagrams in one DERP packet; 65536: the largest) and each sender window in WINDOWS (0: open loop, send whenever the
#     connection is writable; W: at most W packets in flight per pair, like a transport would;
#     queue: as many packets in flight as the relay queues for one receiver by default, 1024 or
#     4 MiB of packets when that is fewer, i.e. 1024 of 1200 B, 256 of 16 KiB, 64 of 64 KiB).
# The bench clients run with the Netty flags bin/derphole runs with (leak sampling and buffer
# checks off) on the event loops derphole's DERP client uses (epoll).
# While a run goes, it samples derper's VmRSS (start, peak, end); the bench reports the CPU the
# relay, its own clients and everything else used while it measured, and the per-thread CPU of
# derper goes to the log folder. Everything shares this machine's cores: the relay, the clients and
# socat compete for them, and so does anything else running (the "others" figure).
#
# A shared machine makes single runs noisy, so before each run the script waits (up to QUIET_WAIT
# seconds) until other processes use less than QUIET_CORES cores, and with REPEAT > 1 it runs each
# scenario that many times and shows the fastest run in the table (all runs are in results.txt).
#
# Environment: DURATION (5), WARMUP (3: the relay's JIT is still busy in its first seconds),
# PAIRS ("1 16"), SIZES ("1200 16384 65536"), WINDOWS ("0 queue"),
# MODES ("tls plain"), REPEAT (1), QUIET_WAIT (60), QUIET_CORES (0.3), CLIENT_JAVA_OPTS (extra JVM
# flags for the bench clients, e.g. -Dio.netty.handler.ssl.noOpenSsl=true to make them use the
# JDK's TLS), DERPHOLE_JAVA_OPTS (extra JVM flags for derper, through its launcher).
# Logs and raw RESULT lines go to bench/out/derp-relay-<time>/.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
duration=${DURATION:-5}
warmup=${WARMUP:-3}
pairs_list=${PAIRS:-"1 16"}
sizes=${SIZES:-"1200 16384 65536"}
windows=${WINDOWS:-"0 queue"}
# What bin/launch.sh gives every derphole command; CLIENT_JAVA_OPTS comes later and wins.
client_opts=(-Dio.netty.leakDetection.level=disabled -Dio.netty.buffer.checkAccessible=false -Dio.netty.buffer.checkBounds=false)
modes=${MODES:-"tls plain"}
bench_jar=$root/bench/target/derphole-bench.jar
derper_jar=$root/cli/target/derphole.jar
repeat=${REPEAT:-1}
quiet_wait=${QUIET_WAIT:-60}
quiet_cores=${QUIET_CORES:-0.3}
run_limit=$(awk -v d="$duration" -v w="$warmup" 'BEGIN { printf "%d", d + w + 60 }')

if ! command -v socat >/dev/null; then
  echo "derp-relay.sh: socat is not installed; install it with: apt-get install -y socat" >&2
  exit 1
fi
case " $modes " in
  *" tls "*) command -v openssl >/dev/null ||
    { echo "derp-relay.sh: openssl is not installed (the TLS baseline's certificate); apt-get install -y openssl" >&2; exit 1; } ;;
esac
if [ ! -f "$bench_jar" ] || [ ! -f "$derper_jar" ]; then
  echo "derp-relay.sh: building the jars (mvn -q -B -DskipTests package)..." >&2
  (cd "$root" && mvn -q -B -DskipTests package >&2)
fi

out=$root/bench/out/derp-relay-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
results=$out/results.txt
: > "$results"

derper_pid=
sampler_pid=
cleanup() {
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; fi
  if [ -n "$derper_pid" ]; then
    kill "$derper_pid" 2>/dev/null || true
    wait "$derper_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$root/bench/lib.sh"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

start_derper() {
  local mode=$1 flags=(--max-conns-per-ip 100000) # every bench client comes from 127.0.0.1
  if [ "$mode" = plain ]; then flags+=(--plain-http); fi
  bench_start_derper "$out/derper-$mode.log" "$out/map-$mode.json" "${flags[@]}"
}

# http(s)://127.0.0.1:PORT of the running derper, from the DERP map it wrote.
derper_url() {
  local scheme=https port
  if [ "$1" = plain ]; then scheme=http; fi
  port=$(grep -o '"DERPPort":[0-9]*' "$out/map-$1.json" | cut -d: -f2)
  echo "$scheme://127.0.0.1:$port"
}

# Busy cores of the whole machine over one second, from /proc/stat (user nice system irq softirq).
busy_cores() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
  awk -v a="$a" -v b="$b" -v hz="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / hz }'
}

# Waits until the machine is quiet (our relay idles between runs), or gives up after quiet_wait s.
wait_quiet() {
  local waited=0 busy
  while :; do
    busy=$(busy_cores)
    if awk -v b="$busy" -v q="$quiet_cores" 'BEGIN { exit !(b < q) }'; then return 0; fi
    waited=$((waited + 1))
    if [ "$waited" -ge "$quiet_wait" ]; then
      echo "derp-relay.sh: the machine stayed busy ($busy cores used by others); running anyway" >&2
      return 0
    fi
  done
}

stop_derper() {
  kill "$derper_pid" 2>/dev/null || true
  wait "$derper_pid" 2>/dev/null || true
  derper_pid=
}

# Says so, and starts a new derper, when ours has been ended from outside (this script never
# stops it mid-way). Its log is kept beside the new one's.
ensure_derper() {
  local mode=$1 why=$2
  local status=0
  if kill -0 "$derper_pid" 2>/dev/null; then return 0; fi
  wait "$derper_pid" 2>/dev/null || status=$?
  echo "derper ($mode) pid $derper_pid was gone $why (exit status $status: 143 is SIGTERM, 137 SIGKILL); restarted" |
    tee -a "$out/machine.txt" >&2
  mv "$out/derper-$mode.log" "$out/derper-$mode.log.$derper_pid"
  start_derper "$mode"
  return 1
}

# One DerpRelayBench run against the running derper, with RSS and CPU sampled around it. Fails,
# keeping no result, when the derper was ended during the run.
derp_run() {
  local mode=$1 pairs=$2 size=$3 window=$4 tag=$1-$2-$3-w$4
  local rss_start rss_end peak line
  ensure_derper "$mode" "before $tag" || true
  rss_start=$(rss_kib "$derper_pid")
  thread_ticks "$derper_pid" > "$out/threads-$tag.before"
  ( while sleep 0.2; do rss_kib "$derper_pid" 2>/dev/null || exit 0; done ) > "$out/rss-$tag.txt" &
  sampler_pid=$!
  # shellcheck disable=SC2086
  line=$(timeout "$run_limit" java "${client_opts[@]}" ${CLIENT_JAVA_OPTS:-} -cp "$bench_jar" dev.derphole.bench.DerpRelayBench \
      --map "$out/map-$mode.json" --pairs "$pairs" --size "$size" --duration "$duration" --warmup "$warmup" \
      --window "$window" --relay-pid "$derper_pid" --label "$mode" \
      2>> "$out/bench-$tag.err" | grep '^RESULT' || true)
  if ! ensure_derper "$mode" "after $tag"; then
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=
    return 1
  fi
  thread_ticks "$derper_pid" > "$out/threads-$tag.after"
  # The relay's own counters (packets forwarded, dropped and why) after the run.
  curl -sk --max-time 2 "$(derper_url "$mode")/metrics" > "$out/metrics-$tag.txt" 2>/dev/null || true
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=
  sleep 0.5 # let the relay release the closed connections before "end"
  rss_end=$(rss_kib "$derper_pid")
  peak=$(sort -n "$out/rss-$tag.txt" | tail -1)
  peak=${peak:-$rss_start}
  if [ "$rss_end" -gt "$peak" ]; then peak=$rss_end; fi
  if [ "$rss_start" -gt "$peak" ]; then peak=$rss_start; fi
  if [ -z "$line" ]; then
    echo "derp-relay.sh: $tag produced no result; see $out/bench-$tag.err" >&2
    line="RESULT bench=derp-relay label=$mode pairs=$pairs size=$size window=$window ok=no"
  fi
  echo "$line rss_start_kib=$rss_start rss_peak_kib=$peak rss_end_kib=$rss_end" >> "$results"
  # Where derper's CPU went during this run, busiest threads first.
  awk -v hz="$clk_tck" 'NR == FNR { before[$1] = $2; next }
      { d = $2 - before[$1]; if (d > 0) printf "%8.2f s  %s\n", d / hz, $3 }' \
      "$out/threads-$tag.before" "$out/threads-$tag.after" | sort -rn > "$out/threads-$tag.txt"
  tail -1 "$results" >&2
}

# socat_run PAIRS [tls]
socat_run() {
  local pairs=$1 tls=${2:-} line label=socat extra=()
  if [ -n "$tls" ]; then
    label=socat-tls extra=(--tls-cert "$out/baseline-tls.pem")
    [ -f "$out/baseline-tls.pem" ] || make_baseline_cert
  fi
  line=$(timeout "$run_limit" java -cp "$bench_jar" dev.derphole.bench.TcpRelayBaseline "${extra[@]}" \
      --pairs "$pairs" --duration "$duration" --warmup "$warmup" 2>> "$out/$label-$pairs.err" | grep '^RESULT' || true)
  if [ -z "$line" ]; then
    echo "derp-relay.sh: $label with $pairs pairs produced no result; see $out/$label-$pairs.err" >&2
    line="RESULT bench=tcp-relay label=$label pairs=$pairs ok=no"
  fi
  echo "$line" >> "$results"
  echo "$line" >&2
}

# A throwaway P-256 key and self-signed certificate, in one PEM file, for the TLS baseline.
make_baseline_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -keyout "$out/baseline-tls.key" -out "$out/baseline-tls.crt" 2>> "$out/openssl.err"
  cat "$out/baseline-tls.key" "$out/baseline-tls.crt" > "$out/baseline-tls.pem"
}

{
  echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
    "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "java: $(java -version 2>&1 | head -2 | tail -1)"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt" >&2

for pairs in $pairs_list; do
  for _ in $(seq "$repeat"); do
    wait_quiet
    socat_run "$pairs"
    case " $modes " in *" tls "*) wait_quiet; socat_run "$pairs" tls ;; esac
  done
done
for mode in $modes; do
  start_derper "$mode"
  echo "derper ($mode) pid $derper_pid, VmRSS at start $(($(rss_kib "$derper_pid") / 1024)) MiB" >&2
  for window in $windows; do
    for pairs in $pairs_list; do
      for size in $sizes; do
        for _ in $(seq "$repeat"); do
          wait_quiet
          derp_run "$mode" "$pairs" "$size" "$window" || derp_run "$mode" "$pairs" "$size" "$window" ||
            echo "derp-relay.sh: $mode $pairs $size $window: no result, the relay was ended twice" >&2
        done
      done
    done
  done
  stop_derper
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2

# The table: one row per DERP scenario (its fastest run), beside the fastest socat run for the
# same number of pairs.
awk '
  function field(name,   i, kv) {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
    return ""
  }
  function mib(kib) { return kib == "" ? "?" : sprintf("%.0f", kib / 1024) }
  function cpu() {
    return field("relay_cpu_cores") == "" ? "?" : field("relay_cpu_cores") " / " field("client_cpu_cores") " / " field("other_cpu_cores")
  }
  field("bench") == "tcp-relay" && field("label") == "socat-tls" {
    p = field("pairs")
    if (!(p in tls)) tls_order[++t] = p
    if (!(p in tls) || field("gbit_per_s") + 0 > tls[p] + 0) { tls[p] = field("gbit_per_s"); tls_rows[p] = $0 }
    next
  }
  field("bench") == "tcp-relay" {
    p = field("pairs")
    if (!(p in socat)) socat_order[++m] = p
    if (!(p in socat) || field("gbit_per_s") + 0 > socat[p] + 0) { socat[p] = field("gbit_per_s"); socat_rows[p] = $0 }
    next
  }
  field("bench") == "derp-relay" {
    key = field("label") " " field("window") " " field("pairs") " " field("size")
    if (!(key in best)) order[++n] = key
    if (!(key in best) || field("gbit_per_s") + 0 > best_gbit[key] + 0) { best[key] = $0; best_gbit[key] = field("gbit_per_s") }
  }
  END {
    print "| scenario | sender | pairs | pkt size | our relay pkts/s | Gbit/s | loss % | socat Gbit/s | ratio | ratio to TLS socat | CPU relay / clients / others (cores) | derper RSS start/peak/end (MiB) |"
    print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
    for (i = 1; i <= n; i++) {
      $0 = best[order[i]]
      p = field("pairs"); g = field("gbit_per_s"); s = socat[p]
      ratio = (g != "" && s + 0 > 0) ? sprintf("%.2f", g / s) : "?"
      tr = field("label") != "tls" ? "–" : (g != "" && tls[p] + 0 > 0) ? sprintf("%.2f", g / tls[p]) : "?"
      label = field("label") (field("client_tls") == "" || field("client_tls") == "none" ? "" : " (clients: " field("client_tls") ")")
      if (field("ok") != "yes") label = label " **run failed**"
      sender = field("window") == "0" ? "open loop" : "window " field("window")
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s/%s/%s |\n", label, sender, p, field("size"),
        field("pkts_per_s"), g, field("loss_pct"), s, ratio, tr, cpu(),
        mib(field("rss_start_kib")), mib(field("rss_peak_kib")), mib(field("rss_end_kib"))
    }
    print ""
    print "| baseline | pairs | write size | Gbit/s | CPU socat / clients / others (cores) |"
    print "|---|---:|---:|---:|---|"
    for (i = 1; i <= m; i++) {
      $0 = socat_rows[socat_order[i]]
      printf "| socat -b %s | %s | %s | %s | %s |\n", field("socat_buffer"), field("pairs"), field("write_size"),
        field("gbit_per_s"), cpu()
    }
    for (i = 1; i <= t; i++) {
      $0 = tls_rows[tls_order[i]]
      printf "| socat -b %s, TLS on every hop (OpenSSL) | %s | %s | %s | %s |\n", field("socat_buffer"), field("pairs"),
        field("write_size"), field("gbit_per_s"), cpu()
    }
  }' "$results" | tee "$out/table.md"
echo >&2
echo "raw results and logs: $out" >&2
