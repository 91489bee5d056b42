#!/usr/bin/env bash
# Benchmark across the NAT lab (docs/nat-lab.md), as root: a SIZE_MIB (default 1024) derphole
# listen/pipe between host A and host B on the direct path, beside socat TCP and
# wormhole-william (local mailbox and transit servers) over the same path, in the same run; then
# the time from `claimed` to `connected-direct` for two endpoint-independent NATs (eim-apdf on
# both sides), best and median of PROMOTIONS (default 5) sessions.
#
# The throughput runs use NAT kind "none" (both hosts on the lab's internet) so that the plain-TCP
# and wormhole baselines can reach each other without port forwards; the promotion runs use real
# NATs. Last, an IPv6 row: derphole direct over IPv6 between two symmetric NATs, beside socat
# TCP over the same IPv6 path.
#   sudo bench/natlab-pipe.sh [SIZE_MIB] [PROMOTIONS]
# Needs socat; openbsd nc (Debian netcat-openbsd) for the issue's `nc` baseline, which uses small
# buffers, so socat with 1 MiB buffers stays beside it as the plain-TCP ceiling; wormhole-william
# and magic-wormhole's servers are optional. BASE_JAR=path/to/derphole.jar adds a derphole pipe run
# with that build (e.g. main's) right after this build's, for a before/after in the same run;
# BASE_OPTS are JVM options for that run only, in place of DERPHOLE_JAVA_OPTS (which every other
# run passes on, after the launcher's own).
set -euo pipefail
size_mib=${1:-1024}; promotions=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
lab="$root/test/natlab/lab.sh"
export NATLAB_ID=bench$$
out=$(mktemp -d /tmp/derphole-natbench.XXXXXX)
trap '"$lab" down >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
[ -f "$root/cli/target/derphole.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)
head -c $((size_mib * 1048576)) /dev/urandom > "$out/in.bin"
want=$(sha256sum < "$out/in.bin" | cut -d' ' -f1)
rate() { python3 -c "b=$1*1048576; t=$2; print(f'{b*8/t/1e6:9.0f} Mbit/s  {t:7.2f} s')"; }
ex() { "$lab" exec "$@"; }

start_relay() {
  rm -f "$out/map.json"
  ex inet "$root/bin/derper" --listen 198.51.100.1:8443 --stun-port 3478 --derp-map-out "$out/map.json" 2>/dev/null &
  for _ in $(seq 300); do [ -f "$out/map.json" ] && break; sleep 0.05; done
}

# One session: listen on hA, pipe on hB. Prints "<seconds> <promotion seconds or -> <path>".
session() {
  local input=$1 jar=${2:-$root/cli/target/derphole.jar} opts=${3-${DERPHOLE_JAVA_OPTS:-}}
  rm -f "$out/listen.err" "$out/got"
  ex hA env DERPHOLE_DERP_MAP="$out/map.json" DERPHOLE_JAR="$jar" DERPHOLE_JAVA_OPTS="$opts" "$root/bin/derphole" --verbose listen > "$out/got" 2> "$out/listen.err" &
  local lp=$!
  for _ in $(seq 400); do grep -q '^derphole pipe ' "$out/listen.err" 2>/dev/null && break; sleep 0.05; done
  local token; token=$(grep '^derphole pipe ' "$out/listen.err" | awk '{print $3}')
  local s; s=$(date +%s.%N)
  ex hB env DERPHOLE_DERP_MAP="$out/map.json" DERPHOLE_JAR="$jar" DERPHOLE_JAVA_OPTS="$opts" "$root/bin/derphole" pipe "$token" < "$input"
  local e; e=$(date +%s.%N)
  wait $lp
  [ "$(sha256sum < "$out/got" | cut -d' ' -f1)" = "$(sha256sum < "$input" | cut -d' ' -f1)" ] || { echo "DIGEST MISMATCH" >&2; exit 1; }
  python3 - "$out/listen.err" "$s" "$e" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
def at(ev):
    for l in lines:
        if l.startswith(ev + " "):
            m = re.search(r"\+(\d+\.\d+)s$", l)
            if m: return float(m.group(1))
    return None
c, d = at("claimed"), at("connected-direct")
print(f"{float(sys.argv[3]) - float(sys.argv[2]):.3f} {d - c if (c is not None and d is not None) else '-'} {'direct' if d is not None else 'relay'}")
PY
}

echo "derphole across the NAT lab: ${size_mib} MiB, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$lab" up none none >/dev/null
start_relay
printf '%-52s %s\n' "transfer (host A <- host B, lab internet)" "throughput / time"
read -r t prom path < <(session "$out/in.bin"); printf '%-52s %s  (path: %s)\n' "derphole pipe" "$(rate $size_mib $t)" "$path"
if [ -n "${BASE_JAR:-}" ]; then
  read -r t prom path < <(session "$out/in.bin" "$BASE_JAR" "${BASE_OPTS-${DERPHOLE_JAVA_OPTS:-}}")
  printf '%-52s %s  (path: %s)\n' "base: derphole pipe ($(basename "$BASE_JAR"))" "$(rate $size_mib $t)" "$path"
fi

ex hA socat -b 1048576 -u TCP-LISTEN:9000,reuseaddr CREATE:"$out/socat.out" & sp=$!
sleep 0.3; s=$(date +%s.%N)
ex hB socat -b 1048576 -u OPEN:"$out/in.bin" TCP:198.51.100.10:9000,retry=20,interval=0.05
wait $sp; e=$(date +%s.%N)
[ "$(sha256sum < "$out/socat.out" | cut -d' ' -f1)" = "$want" ] || { echo "socat digest mismatch" >&2; exit 1; }
printf '%-52s %s\n' "socat TCP, same path (baseline ceiling)" "$(rate $size_mib "$(python3 -c "print($e-$s)")")"

if command -v nc >/dev/null && nc -h 2>&1 | grep -qi openbsd; then
  # -N: shut the socket down at end of input, so the listener sees EOF and exits.
  ex hA sh -c "exec nc -l 9001 > '$out/nc.out'" & np=$!
  sleep 0.3; s=$(date +%s.%N)
  ex hB nc -N 198.51.100.10 9001 < "$out/in.bin"
  wait $np; e=$(date +%s.%N)
  [ "$(sha256sum < "$out/nc.out" | cut -d' ' -f1)" = "$want" ] || { echo "nc digest mismatch" >&2; exit 1; }
  rm -f "$out/nc.out"
  printf '%-52s %s\n' "nc (openbsd) TCP, same path (the issue's baseline)" "$(rate $size_mib "$(python3 -c "print($e-$s)")")"
else
  printf '%-52s %s\n' "nc (openbsd)" "skipped: not installed (apt-get install netcat-openbsd)"
fi

if command -v wormhole-william >/dev/null && [ -x /usr/bin/twist3 ]; then
  (cd "$out" && ex inet /usr/bin/twist3 wormhole-mailbox --port=tcp:4000:interface=198.51.100.1 >/dev/null 2>&1) &
  (cd "$out" && ex inet /usr/bin/twist3 transitrelay --port=tcp:4001:interface=198.51.100.1 >/dev/null 2>&1) &
  sleep 2
  # wormhole-william looks up transit.magic-wormhole.io: point it at the lab relay for this run.
  echo "198.51.100.1 transit.magic-wormhole.io # derphole-bench" >> /etc/hosts
  mkdir -p "$out/ww"
  s=$(date +%s.%N)
  ex hB wormhole-william --relay-url ws://198.51.100.1:4000/v1 send --hide-progress --code 7-bench-lab "$out/in.bin" >/dev/null 2>&1 & wp=$!
  (cd "$out/ww" && { yes || true; } | ex hA wormhole-william --relay-url ws://198.51.100.1:4000/v1 recv --hide-progress 7-bench-lab >/dev/null 2>&1)
  wait $wp; e=$(date +%s.%N)
  sed -i '/# derphole-bench$/d' /etc/hosts
  [ "$(sha256sum < "$out/ww/in.bin" | cut -d' ' -f1)" = "$want" ] || { echo "wormhole digest mismatch" >&2; exit 1; }
  printf '%-52s %s\n' "wormhole-william, local mailbox+transit, same path" "$(rate $size_mib "$(python3 -c "print($e-$s)")")"
else
  printf '%-52s %s\n' "wormhole-william" "skipped: not installed"
fi
"$lab" down >/dev/null

"$lab" up eim-apdf eim-apdf >/dev/null
start_relay
head -c 1048576 /dev/urandom > "$out/small.bin"
: > "$out/prom"
for _ in $(seq "$promotions"); do
  read -r t prom path < <(session "$out/small.bin"); echo "$prom" >> "$out/prom"
done
python3 - "$out/prom" <<'PY'
import sys, statistics
v = [float(x) for x in open(sys.argv[1]).read().split() if x != '-']
n = len(open(sys.argv[1]).read().split())
print(f"relay->direct promotion after the claim, eim-apdf <-> eim-apdf: best {min(v):.3f} s, median {statistics.median(v):.3f} s ({len(v)} of {n} sessions went direct)")
PY
"$lab" down >/dev/null

# IPv6: two symmetric NATs (no direct path over IPv4) with IPv6 on both sites behind stateful
# firewalls; the relay on both families. derphole goes direct over IPv6; socat TCP over the same
# IPv6 path (through a hole opened in site A's firewall for it) is the same-run ceiling.
"$lab" up symmetric symmetric --ipv6 A --ipv6 B >/dev/null
rm -f "$out/map.json"
ex inet "$root/bin/derper" --listen :8443 --hostname relay.lab --stun-port 3478 --derp-map-out "$out/map6.json" 2>/dev/null &
for _ in $(seq 300); do [ -s "$out/map6.json" ] && break; sleep 0.05; done
sleep 0.2
python3 - "$out/map6.json" "$out/map.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for r in m["Regions"].values():
    for n in r["Nodes"]:
        n["IPv4"], n["IPv6"] = "198.51.100.1", "2001:db8:ff::1"
json.dump(m, open(sys.argv[2], "w"))
PY
read -r t prom path < <(session "$out/in.bin")
via=$(grep -m1 '^connected-direct ' "$out/listen.err" | awk '{print $2}')
printf '%-52s %s  (path: %s %s)\n' "derphole pipe over IPv6, symmetric NATs" "$(rate $size_mib $t)" "$path" "${via:-}"
ex rA nft insert rule inet dhl forward tcp dport 9000 accept
ex hA socat -b 1048576 -u TCP6-LISTEN:9000,reuseaddr CREATE:"$out/socat6.out" & sp=$!
sleep 0.3; s=$(date +%s.%N)
ex hB socat -b 1048576 -u OPEN:"$out/in.bin" TCP6:[2001:db8:a::2]:9000,retry=20,interval=0.05
wait $sp; e=$(date +%s.%N)
[ "$(sha256sum < "$out/socat6.out" | cut -d' ' -f1)" = "$want" ] || { echo "socat over IPv6 digest mismatch" >&2; exit 1; }
rm -f "$out/socat6.out"
printf '%-52s %s\n' "socat TCP over IPv6, same path (baseline ceiling)" "$(rate $size_mib "$(python3 -c "print($e-$s)")")"
