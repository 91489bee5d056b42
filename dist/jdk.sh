#!/usr/bin/env bash
# Sourced by dist/*.sh: Debian's OpenJDK 17 for linux-x64 and linux-arm64, one version for both,
# unpacked (never installed) under $DIST_CACHE. The bundles are linked from these jmods with the
# x64 package's own jlink, so the tool and every target are the same JDK build.
# Needs apt-get with the arm64 architecture added (.ci/run does it:
# dpkg --add-architecture arm64 && apt-get update).

DIST_CACHE=${DERPHOLE_DIST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/derphole-dist}

# The Debian version of openjdk-17 both architectures have: the arm64 candidate, unless
# DERPHOLE_JDK_DEB_VERSION names one.
jdk_deb_version() {
  if [ -n "${DERPHOLE_JDK_DEB_VERSION:-}" ]; then echo "$DERPHOLE_JDK_DEB_VERSION"; return; fi
  local v
  v=$(apt-cache policy openjdk-17-jdk-headless:arm64 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [ -z "$v" ] || [ "$v" = "(none)" ]; then
    echo "dist: no openjdk-17-jdk-headless:arm64 in apt's lists; run: dpkg --add-architecture arm64 && apt-get update" >&2
    return 1
  fi
  echo "$v"
}

# Downloads (once) and unpacks the .debs named as NAME:ARCH into $DIST_CACHE/DIR; prints DIR's path.
debs_unpacked() {
  local dir=$DIST_CACHE/$1
  shift
  if [ ! -f "$dir/.done" ]; then
    rm -rf "$dir" "$dir.debs"
    mkdir -p "$dir.debs"
    (cd "$dir.debs" && apt-get download -q "$@") >&2
    mkdir -p "$dir"
    local deb
    for deb in "$dir.debs"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
    rm -rf "$dir.debs"
    touch "$dir/.done"
  fi
  echo "$dir"
}

# JAVA_HOME of the unpacked JDK for ARCH (amd64: a whole JDK, jlink included; arm64: its jmods).
jdk_home() {
  local arch=$1 v
  v=$(jdk_deb_version) || return 1
  local pkgs=("openjdk-17-jdk-headless:$arch=$v")
  [ "$arch" = amd64 ] && pkgs+=("openjdk-17-jre-headless:$arch=$v")
  local dir
  dir=$(debs_unpacked "jdk-$arch-${v//[^A-Za-z0-9.+-]/_}" "${pkgs[@]}") || return 1
  echo "$dir/usr/lib/jvm/java-17-openjdk-$arch"
}
