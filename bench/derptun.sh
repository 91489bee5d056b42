#!/usr/bin/env bash
# derptun across the NAT lab (docs/nat-lab.md), as root: scp of SIZE_MIB (default 1024) from host
# B to an sshd on host A through `derptun open` (hB) -> `derptun serve` (hA) on the direct path,
# beside scp over the same lab path without the tunnel, in the same run; then the same through the
# tunnel relay-only (--force-relay) with RELAY_MIB (default 256).
#
# NAT kind "none" on both sites (both hosts on the lab's internet), so the plain scp baseline
# reaches sshd without port forwards; the tunnel still meets on the lab relay and goes direct.
# Every copy is checked by SHA-256.
#   sudo bench/derptun.sh [SIZE_MIB] [RELAY_MIB]
set -euo pipefail
size_mib=${1:-1024}; relay_mib=${2:-256}
root=$(cd "$(dirname "$0")/.." && pwd)
lab="$root/test/natlab/lab.sh"
export NATLAB_ID=dtb$$
out=$(mktemp -d /tmp/derptun-bench.XXXXXX)
trap '"$lab" down >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
[ -f "$root/cli/target/derphole.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)
ex() { "$lab" exec "$@"; }
rate() { python3 -c "b=$1*1048576; t=$2; print(f'{b*8/t/1e6:9.0f} Mbit/s  {t:7.2f} s')"; }
elapsed() { python3 -c "print($2-$1)"; }

head -c $((size_mib * 1048576)) /dev/urandom > "$out/in.bin"
head -c $((relay_mib * 1048576)) /dev/urandom > "$out/relay.bin"

# sshd on host A, key login for root only, its own keys and config.
mkdir -p /run/sshd "$out/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$out/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$out/ssh/client_key"
cp "$out/ssh/client_key.pub" "$out/ssh/authorized_keys"
cat > "$out/ssh/sshd_config" <<CONF
ListenAddress 0.0.0.0
Port 2022
HostKey $out/ssh/host_key
PidFile none
AuthorizedKeysFile $out/ssh/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
CONF
ssh_opts=(-F /dev/null -i "$out/ssh/client_key" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)

echo "derptun across the NAT lab: scp of ${size_mib} MiB, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "ssh: $(ssh -V 2>&1)"
"$lab" up none none >/dev/null
ex hA /usr/sbin/sshd -D -e -f "$out/ssh/sshd_config" 2> "$out/sshd.log" &
ex inet "$root/bin/derper" --listen 198.51.100.1:8443 --stun-port 3478 --derp-map-out "$out/map.json" 2>/dev/null &
for _ in $(seq 300); do [ -f "$out/map.json" ] && grep -q 'Server listening' "$out/sshd.log" 2>/dev/null && break; sleep 0.05; done
dt() { local ns=$1; shift; ex "$ns" env DERPHOLE_DERP_MAP="$out/map.json" "$root/bin/derptun" "$@"; }
dt hA token server --output "$out/server.dts"
dt hA token client --token-file "$out/server.dts" --output "$out/client.dtc"

# One scp from host B to host A through PORT on HOST; prints seconds, checks the copy.
copy() {
  local file=$1 host=$2 port=$3 name=$4
  rm -f "$out/$name"
  local s; s=$(date +%s.%N)
  ex hB scp -O -q "${ssh_opts[@]}" -P "$port" "$file" "root@$host:$out/$name"
  local e; e=$(date +%s.%N)
  [ "$(sha256sum < "$out/$name" | cut -d' ' -f1)" = "$(sha256sum < "$file" | cut -d' ' -f1)" ] || { echo "DIGEST MISMATCH ($name)" >&2; exit 1; }
  elapsed "$s" "$e"
}

# The tunnel: serve on hA in front of sshd, open on hB; FLAGS e.g. --force-relay.
tunnel() {
  dt hA --verbose serve "$@" --token-file "$out/server.dts" --tcp 127.0.0.1:2022 2> "$out/serve.err" &
  serve_pid=$!
  rm -f "$out/open.err"
  dt hB --verbose open "$@" --token-file "$out/client.dtc" --listen 127.0.0.1:2222 2> "$out/open.err" &
  open_pid=$!
  for _ in $(seq 600); do grep -q '^tunnel-up' "$out/open.err" 2>/dev/null && break; sleep 0.05; done
  # give the direct path its chance (it promotes within ~0.5 s of the claim in the lab)
  if [ $# = 0 ]; then for _ in $(seq 100); do grep -q '^connected-direct' "$out/open.err" && break; sleep 0.05; done; fi
}
untunnel() {
  kill "$open_pid" "$serve_pid" 2>/dev/null || true
  wait "$open_pid" "$serve_pid" 2>/dev/null || true
}
path() { if grep -q '^connected-direct' "$out/open.err"; then echo direct; else echo relay; fi; }

printf '%-52s %s\n' "scp, host B -> host A" "throughput / time"
t=$(copy "$out/in.bin" 198.51.100.10 2022 plain.bin)
printf '%-52s %s\n' "scp over the lab path, no tunnel (baseline)" "$(rate "$size_mib" "$t")"
tunnel
t=$(copy "$out/in.bin" 127.0.0.1 2222 tunnel.bin)
printf '%-52s %s  (path: %s)\n' "scp through derptun open -> serve" "$(rate "$size_mib" "$t")" "$(path)"
untunnel
t=$(copy "$out/relay.bin" 198.51.100.10 2022 plain-small.bin)
printf '%-52s %s\n' "scp over the lab path, no tunnel, ${relay_mib} MiB" "$(rate "$relay_mib" "$t")"
tunnel --force-relay
t=$(copy "$out/relay.bin" 127.0.0.1 2222 tunnel-relay.bin)
printf '%-52s %s  (path: %s)\n' "scp through derptun, --force-relay, ${relay_mib} MiB" "$(rate "$relay_mib" "$t")" "$(path)"
untunnel
