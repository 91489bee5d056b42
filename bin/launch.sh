#!/usr/bin/env bash
# Shared by bin/derphole, bin/derptun and bin/derper: find (or build) the shaded jar and run a tool.
# Usage: launch.sh MAIN_CLASS TOOL_NAME [ARGS...]
set -euo pipefail
main_class=$1 tool=$2
shift 2
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
if [ -x "$root/runtime/bin/java" ]; then
  # A self-contained bundle (dist/bundle.sh): its own runtime and jar, never a system java.
  bundle=1 java=$root/runtime/bin/java
  jar=${DERPHOLE_JAR:-$root/lib/derphole.jar}
else
  bundle= java=java
  jar=${DERPHOLE_JAR:-$root/cli/target/derphole.jar}
fi
if [ -n "${DERPHOLE_JAR:-}" ] && [ ! -f "$jar" ]; then
  echo "$tool: DERPHOLE_JAR names $jar, which is not a file" >&2
  exit 1
fi
if [ -z "$bundle" ] && [ ! -f "$jar" ]; then
  echo "$tool: first run: building $jar with Maven (about a minute)..." >&2
  if ! (cd "$root" && mvn -q -B -DskipTests package >&2); then
    echo "$tool: the build failed; run 'mvn -B -DskipTests package' in $root to see why" >&2
    exit 1
  fi
fi
java_opts=(-XX:+UseSerialGC -Xss512k -XX:+IgnoreUnrecognizedVMOptions --enable-native-access=ALL-UNNAMED)
# Netty's debugging checks cost the data path 7-20 % of its CPU (docs/benchmarks.md, share/open):
# leak sampling on buffers and a reference-count check on every buffer access. The tests run
# with them on; a shipped tool runs without.
java_opts+=(-Dio.netty.leakDetection.level=disabled -Dio.netty.buffer.checkAccessible=false -Dio.netty.buffer.checkBounds=false)
# A one-shot transfer (listen, pipe, send, receive) is over before C2's big inlined compilations
# pay for themselves: on two cores they take most of a core during the first seconds. Smaller
# inlining makes them cheaper and, measured, the transfer faster at 1 and at 4 GiB. share/open
# measured faster with it too, in steady state (HTTP through the tunnel, docs/benchmarks.md);
# derptun and derper keep the JVM's defaults (not measured with it).
if [ "$tool" = derphole ]; then
  sub= skip=
  for a in "$@"; do
    if [ -n "$skip" ]; then skip=; continue; fi
    case $a in --derp-map) skip=1 ;; -*) ;; *) sub=$a; break ;; esac
  done
  case $sub in
    listen|pipe|send|receive|share|open) java_opts+=(-XX:FreqInlineSize=100 -XX:MaxInlineLevel=6 -XX:InlineSmallCode=1000) ;;
  esac
fi
# Bounded memory: without a cap the JVM sizes its heap from the machine (a quarter of RAM) and a
# busy relay's footprint drifts up to that plateau. DERPHOLE_JAVA_OPTS comes later and wins.
case $tool in
  # Netty's allocator takes a heap of 512 MiB or less for a small machine and then pools no buffer
  # above 16.5 KiB: each 64 KiB socket read of the relay became a fresh, zeroed allocation (a
  # quarter of its CPU in perf). Pooling them costs no more memory here (docs/benchmarks.md).
  derper) java_opts+=(-Xms64m -Xmx512m -XX:MaxDirectMemorySize=256m -Dio.netty.allocator.lowMemory=false) ;;
  *) java_opts+=(-Xms32m -Xmx256m -XX:MaxDirectMemorySize=256m) ;;
esac
# The JVM's own log lines (e.g. about the class archive) would go to stdout, which carries data:
# warnings go to stderr instead, and the class archive's are dropped (a stale one is just unused).
java_opts+=(-Xlog:disable -Xlog:all=warning:stderr -Xlog:cds*=off:stderr)
# The class archive the build made beside the jar (cli/pom.xml, ClassArchiveTraining): classes
# mapped from it instead of read from the jar, a third off a fresh process's time to its token.
# An archive that does not match the jar or this JVM is ignored.
# A bundle is unpacked anywhere, and a JDK 17 archive holds the class path it was made with: a
# bundle's archive is made, and used, with the jar as this process's file descriptor 9, a path
# that is the same wherever the bundle lies. DERPHOLE_ARCHIVE_DUMP (dist/bundle.sh) makes one.
archive=${jar%.jar}.jsa
cp=$jar
if [ -n "$bundle" ] && [ -d /proc/self/fd ]; then
  exec 9<"$jar"
  cp=/proc/self/fd/9
fi
if [ -n "${DERPHOLE_ARCHIVE_DUMP:-}" ] && [ -n "${DERPHOLE_ARCHIVE_CLASSES:-}" ]; then
  # A static archive of the classes a list names (made on another machine: arm64's under qemu).
  java_opts+=(-Xshare:dump -XX:SharedClassListFile="$DERPHOLE_ARCHIVE_CLASSES" -XX:SharedArchiveFile="$DERPHOLE_ARCHIVE_DUMP")
elif [ -n "${DERPHOLE_ARCHIVE_DUMP:-}" ]; then
  java_opts+=(-XX:ArchiveClassesAtExit="$DERPHOLE_ARCHIVE_DUMP")
elif [ -f "$archive" ]; then
  java_opts+=(-XX:SharedArchiveFile="$archive" -Xshare:auto)
fi
# The JVM decodes file names with the locale's charset: with no locale at all (a bare container,
# cron) it would be ASCII, and send/receive could not handle a name such as "ünï.txt".
if [ -z "${LC_ALL:-}${LC_CTYPE:-}${LANG:-}" ]; then
  export LC_ALL=C.UTF-8
fi
# A user's -Xlog with no output (or stdout), bare -Xlog and -verbose:gc would log to stdout, which
# carries data: they log to stderr instead.
user_opts=()
read -r -a words <<< "${DERPHOLE_JAVA_OPTS:-}"
for o in ${words[@]+"${words[@]}"}; do
  case $o in
    -Xlog) o=-Xlog:all=info:stderr:uptime,level,tags ;;
    -verbose:gc) o=-Xlog:gc:stderr ;;
    -Xlog:disable|-Xlog:help|-Xlog:async*) ;;
    -Xlog:*)
      what=${o#-Xlog:} && what=${what%%:*} && rest=${o#-Xlog:"$what"}
      out=${rest#:} && out=${out%%:*} && tail=${rest#:"$out"}
      case $out in ''|stdout) o=-Xlog:$what:stderr$tail ;; esac ;;
  esac
  user_opts+=("$o")
done
exec "$java" "${java_opts[@]}" ${user_opts[@]+"${user_opts[@]}"} -cp "$cp" "$main_class" "$@"
