#!/usr/bin/env bash
# The install test (.ci/run): the linux-x64 tarball and the npm packages, installed and run as a
# user would on a machine WITHOUT any JDK. A private mount namespace hides the system's JDKs
# (/usr/lib/jvm under an empty tmpfs, so /usr/bin/java is a dangling link) and checks that no
# `java` is left; in it:
#   tarball: unpack, `derphole version`, a relay from its `derper`, 64 MiB listen/pipe (SHA-256;
#            the listener on the bundle's epoll, BoringSSL and quiche natives)
#   npm:     `npm install -g derphole derptun` from a loopback registry serving only our packed
#            tarballs (dist/npm/registry.js; nothing from any other registry), then
#            `npx derphole version`, `derptun token --days 1` and a 16 MiB listen/pipe
# Needs root (unshare, mount), node and npm, and dist/target from `mvn -B package -Pdist`.
# Prints "install-test: N passed, N failed" last; exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" != --inside ]; then
  tarball=$(ls "$root"/dist/target/derphole-*-linux-x64.tar.gz 2>/dev/null | head -1)
  [ -n "$tarball" ] && [ -f "$root/dist/target/npm/packs.json" ] ||
    { echo "install test: no bundle or npm packages in dist/target; run mvn -B package -Pdist" >&2; exit 1; }
  exec unshare --mount --propagation private "$0" --inside "$tarball"
fi
tarball=$2

# No JDK from here on.
mount -t tmpfs -o size=1m nojdk /usr/lib/jvm
unset JAVA_HOME
if command -v java >/dev/null 2>&1; then
  echo "install test: a java is still reachable: $(command -v java)" >&2
  exit 1
fi

work=$(mktemp -d /tmp/derphole-install-test.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
check() {  # check NAME COMMAND...: runs it, counts it
  local name=$1
  shift
  if "$@" >"$work/check.out" 2>&1; then
    passed=$((passed + 1)); echo "ok    $name"
  else
    failed=$((failed + 1)); echo "FAIL  $name"; sed 's/^/      /' "$work/check.out" | tail -20
  fi
}

# Waits (at most 60 s) until FILE matches REGEX; prints the first match's line.
await_line() {
  local file=$1 regex=$2 pid=$3 i
  for ((i = 0; i < 600; i++)); do
    if grep -Eo "$regex" "$file" 2>/dev/null | head -1 | grep .; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "exited before printing /$regex/:" >&2; cat "$file" >&2; return 1; }
    sleep 0.1
  done
  echo "nothing matched /$regex/ in 60 s:" >&2; cat "$file" >&2
  return 1
}

# start_relay NAME BIN_DIR: a derper on loopback, TLS with a self-signed certificate its map
# pins; sets map to its DERP map (not in a subshell: its pid must reach cleanup).
start_relay() {
  local dir=$work/relay-$1
  mkdir -p "$dir"
  "$2/derper" --listen 127.0.0.1:0 --stun-port 0 --derp-map-out "$dir/map.json" \
    </dev/null >"$dir/out" 2>"$dir/err" &
  pids+=($!)
  local i
  for ((i = 0; i < 600; i++)); do
    [ -s "$dir/map.json" ] && { map=$dir/map.json; return 0; }
    sleep 0.1
  done
  echo "relay wrote no map:" >&2; cat "$dir/err" >&2
  return 1
}

# A process and its descendants (npm's bin is node, which starts the launcher's java).
tree_pids() {
  local c
  echo "$1"
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}

# listen_pipe BIN_DIR MAP MIB: MIB MiB of random bytes through listen/pipe, compared by SHA-256.
listen_pipe() {
  local bin=$1 map=$2 mib=$3 dir
  dir=$(mktemp -d "$work/pipe.XXXXXX")
  head -c $((mib << 20)) /dev/urandom >"$dir/in"
  DERPHOLE_DERP_MAP=$map "$bin/derphole" listen --print-token-only >"$dir/out" 2>"$dir/listen.err" </dev/null &
  local listener=$!
  pids+=("$listener")
  local token
  token=$(await_line "$dir/listen.err" 'dhoB[A-Za-z0-9_-]+' "$listener") || return 1
  # stdin through a FIFO: the first MiB, then the rest once the listener has been looked at.
  mkfifo "$dir/fifo"
  DERPHOLE_DERP_MAP=$map "$bin/derphole" pipe "$token" <"$dir/fifo" 2>"$dir/pipe.err" &
  local piper=$! i lib missing=
  exec 7>"$dir/fifo"
  head -c 1048576 "$dir/in" >&7
  # Once bytes arrive, the listener runs on its platform's natives: Netty's epoll transport,
  # BoringSSL (tcnative) for TLS to the relay and quiche for QUIC, none of them a fallback.
  for ((i = 0; i < 600; i++)); do [ -s "$dir/out" ] && break; sleep 0.1; done
  for lib in netty_transport_native_epoll netty_tcnative netty_quiche; do
    # shellcheck disable=SC2046
    grep -qs "$lib" $(tree_pids "$listener" | sed 's|.*|/proc/&/maps|') || missing+=" $lib"
  done
  tail -c +1048577 "$dir/in" >&7
  exec 7>&-
  wait "$piper" || { echo "pipe failed:" >&2; cat "$dir/pipe.err" >&2; return 1; }
  [ -z "$missing" ] || { echo "listen did not load:$missing" >&2; return 1; }
  wait "$listener" || { echo "listen failed:" >&2; cat "$dir/listen.err" >&2; return 1; }
  local want got
  want=$(sha256sum <"$dir/in" | cut -d' ' -f1)
  got=$(sha256sum <"$dir/out" | cut -d' ' -f1)
  [ "$want" = "$got" ] || { echo "received $(stat -c %s "$dir/out") bytes, SHA-256 $got; sent $want" >&2; return 1; }
}

echo "install test: no JDK here (command -v java fails); $(basename "$tarball")"

# The tarball.
mkdir -p "$work/opt"
tar -xzf "$tarball" -C "$work/opt"
bundle_bin=$(echo "$work"/opt/derphole-*/bin)
check "tarball: derphole version" bash -c "'$bundle_bin/derphole' version | grep -Eq '^[0-9]'"
start_relay tarball "$bundle_bin" || { echo "FAIL  tarball: its derper"; echo "install-test: $passed passed, $((failed + 1)) failed"; exit 1; }
check "tarball: 64 MiB listen/pipe through its relay, SHA-256 equal" listen_pipe "$bundle_bin" "$map" 64

# npm, from our own packages only.
registry=$(mktemp "$work/registry.XXXXXX")
node "$root/dist/npm/registry.js" "$root/dist/target/npm" >"$registry" &
pids+=($!)
await_line "$registry" '^http://[^ ]+' $! >/dev/null
export npm_config_registry=$(head -1 "$registry")
export npm_config_cache=$work/npm-cache npm_config_prefix=$work/npm-global
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
check "npm: install -g derphole derptun" npm install -g --no-audit derphole derptun
export PATH=$npm_config_prefix/bin:$PATH
check "npm: the linux-x64 bundle came as derphole's optional dependency" \
  test -x "$npm_config_prefix/lib/node_modules/derphole/node_modules/@derphole/linux-x64/runtime/bin/java"
check "npm: npx derphole version" bash -c "npx --no-install derphole version | grep -Eq '^[0-9]'"
check "npm: derptun token --days 1" bash -c "derptun token --days 1 | grep -q ."
check "npm: 16 MiB listen/pipe, SHA-256 equal" listen_pipe "$npm_config_prefix/bin" "$map" 16

echo "install-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
