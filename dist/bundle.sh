#!/usr/bin/env bash
# Self-contained bundles of the tools, which need no JDK on the machine:
#   dist/target/derphole-VERSION-linux-x64.tar.gz and dist/target/derphole-VERSION-linux-arm64.tar.gz
# Each holds runtime/ (a jlinked Java 17 with only the modules the jar uses), lib/derphole.jar (the
# jar with that platform's natives alone), lib/derphole.jsa (its class archive) and bin/ (the
# repository's own launchers: bin/launch.sh runs runtime/bin/java when it lies beside it).
# Usage: dist/bundle.sh [linux-x64] [linux-arm64]   (both by default), after `mvn package`.
# Needs apt-get with the arm64 architecture (dist/jdk.sh), python3, and for the arm64 class archive
# qemu-user (dist/arm64.sh setup) and linux-x64 in the same run; without qemu the arm64 bundle has
# no class archive (it starts slower), except under CI=true, where that fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=dist/jdk.sh
. "$root/dist/jdk.sh"
jar=$root/cli/target/derphole.jar
out=$root/dist/target
[ -f "$jar" ] || { echo "dist/bundle.sh: no $jar; run mvn -B -DskipTests package first" >&2; exit 1; }
# linux-x64 first: linux-arm64's class archive is made from its class list.
platforms=(linux-x64 linux-arm64)
if [ $# -gt 0 ]; then
  platforms=()
  for p in linux-x64 linux-arm64; do
    case " $* " in *" $p "*) platforms+=("$p") ;; esac
  done
fi

version=$(python3 -c 'import sys,zipfile; p=zipfile.ZipFile(sys.argv[1]).read("META-INF/maven/dev.derphole/cli/pom.properties").decode(); print([l[8:] for l in p.splitlines() if l.startswith("version=")][0])' "$jar")

jdk=$(jdk_home amd64)
# The modules the jar uses (jdeps), with the ones it reaches only through a service or a name:
# jdk.crypto.ec (TLS key exchange with the relays) and jdk.naming.dns (Netty's DNS servers).
# Less java.desktop (AWT, a fifth of the tarball): only Jackson's optional java.beans annotations
# refer to it, and Jackson loads those behind a catch; java.logging and java.xml came with it.
modules=$("$jdk/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 "$jar")
# And the modules of every provider the runtime's java.security lists (SunJGSS, JdkSASL, XMLDSig, SunPCSC,
# SunPKCS11): where one is missing, the first TLS handshake's search for signature algorithms
# falls back to a ServiceLoader scan that instantiates every provider on the class path,
# BouncyCastle's included (hundreds of classes outside the class archive, 0.1 s a start).
modules=$(echo "$modules,java.logging,java.xml,jdk.crypto.ec,jdk.naming.dns,java.security.jgss,jdk.security.jgss,java.xml.crypto,java.smartcardio,jdk.crypto.cryptoki" \
  | tr , '\n' | grep -vx java.desktop | paste -sd,)
# npm gives every file it installs this time; the class archive checks the jar's, so the jar has
# it from the start (the same in the tarball and in the npm package).
stamp=1985-10-26T08:15:00Z

mkdir -p "$out"
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

for platform in "${platforms[@]}"; do
  case $platform in
    linux-x64) arch=amd64 natives=_x86_64.so ;;
    linux-arm64) arch=arm64 natives=_aarch_64.so ;;
    *) echo "dist/bundle.sh: unknown platform $platform (linux-x64, linux-arm64)" >&2; exit 2 ;;
  esac
  name=derphole-$version-$platform
  img=$work/$name
  echo "dist: $name (runtime: $modules)" >&2
  # No --compress: the tarball (and npm's) compresses the runtime better than jlink's zip, which
  # gzip then cannot shrink (measured: 6 MB smaller, docs/benchmarks.md). The Java debug
  # attributes only: --strip-debug would also run the host's objcopy on the natives, which cannot
  # read arm64 ones, and Debian ships them without debug symbols already.
  "$jdk/bin/jlink" --module-path "$(jdk_home "$arch")/jmods" --add-modules "$modules" \
    --strip-java-debug-attributes --no-man-pages --no-header-files --output "$img/runtime"
  mkdir -p "$img/bin" "$img/lib"
  cp "$root/bin/launch.sh" "$root/bin/derphole" "$root/bin/derptun" "$root/bin/derper" "$img/bin/"
  # The jar without the other platforms' natives (META-INF/native/*): a third of its size. Linux's
  # are the .so files, named by CPU alone (quiche and tcnative say linux_, epoll does not).
  python3 - "$jar" "$img/lib/derphole.jar" "$natives" <<'PY'
import sys, zipfile
src, dst, keep = sys.argv[1:]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for info in zin.infolist():
        n = info.filename
        if n.startswith("META-INF/native/") and n != "META-INF/native/" and not n.endswith(keep):
            continue
        zout.writestr(info, zin.read(n))
    kept = [n for n in zout.namelist() if n.startswith("META-INF/native/lib")]
    for lib in ("transport_native_epoll", "tcnative", "quiche"):
        if not any(lib in n for n in kept):
            sys.exit(f"dist/bundle.sh: no {lib} native for *{keep} in the jar (kept: {kept})")
PY
  touch -d "$stamp" "$img/lib/derphole.jar"
  # The class archive. x64: the runtime's own base archive, then the launcher's training run
  # (ClassArchiveTraining, as cli/pom.xml does for the checkout) on top, which also lists the
  # classes it loaded. arm64: that list, dumped as one static archive by the arm64 runtime under
  # qemu-user (a training session itself, CPU-emulated, misses the relay's timeouts).
  if [ "$arch" = amd64 ]; then
    "$img/runtime/bin/java" -Xshare:dump -Xlog:disable >/dev/null
    DERPHOLE_ARCHIVE_DUMP=$img/lib/derphole.jsa DERPHOLE_JAVA_OPTS=-XX:DumpLoadedClassList=$work/classes.lst \
      "$img/bin/launch.sh" dev.derphole.cli.ClassArchiveTraining derphole >&2
  elif [ ! -f "$work/classes.lst" ]; then
    echo "dist/bundle.sh: linux-arm64's class archive needs linux-x64's class list: build both in one run" >&2
    exit 2
  elif "$root/dist/arm64.sh" check 2>/dev/null; then
    QEMU_LD_PREFIX=$("$root/dist/arm64.sh" setup 2>/dev/null) DERPHOLE_ARCHIVE_CLASSES=$work/classes.lst \
      DERPHOLE_ARCHIVE_DUMP=$img/lib/derphole.jsa "$img/bin/launch.sh" dev.derphole.cli.DerpholeCommand derphole >&2
  elif [ "${CI:-}" = true ]; then
    echo "dist/bundle.sh: qemu-user cannot run arm64 here (CI=true: .ci/run sets it up with dist/arm64.sh setup)" >&2
    exit 1
  else
    echo "dist/bundle.sh: no arm64 emulation (dist/arm64.sh setup): $name without a class archive" >&2
  fi
  [ -f "$img/lib/derphole.jsa" ] || [ "$arch" = arm64 ] || { echo "dist/bundle.sh: no class archive for $name" >&2; exit 1; }
  tar -C "$work" --owner=0 --group=0 --numeric-owner -czf "$out/$name.tar.gz.tmp" "$name"
  mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
  echo "dist: $out/$name.tar.gz ($(du -m "$out/$name.tar.gz" | cut -f1) MB)" >&2
done
