#!/usr/bin/env bash
# Shared by bin/derphole, bin/derptun and bin/derper: find (or build) the shaded jar and run a tool.
# Usage: launch.sh MAIN_CLASS TOOL_NAME [ARGS...]
set -euo pipefail
main_class=$1 tool=$2
shift 2
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
jar=${DERPHOLE_JAR:-$root/cli/target/derphole.jar}
if [ ! -f "$jar" ]; then
  echo "$tool: first run: building $jar with Maven (about a minute)..." >&2
  if ! (cd "$root" && mvn -q -B -DskipTests package >&2); then
    echo "$tool: the build failed; run 'mvn -B -DskipTests package' in $root to see why" >&2
    exit 1
  fi
fi
java_opts=(-XX:+UseSerialGC -Xss512k -XX:+IgnoreUnrecognizedVMOptions --enable-native-access=ALL-UNNAMED)
# Bounded memory: without a cap the JVM sizes its heap from the machine (a quarter of RAM) and a
# busy relay's footprint drifts up to that plateau. DERPHOLE_JAVA_OPTS comes later and wins.
case $tool in
  derper) java_opts+=(-Xms64m -Xmx512m -XX:MaxDirectMemorySize=256m) ;;
  *) java_opts+=(-Xms32m -Xmx256m -XX:MaxDirectMemorySize=256m) ;;
esac
if [ -f "$root/cli/target/derphole.jsa" ]; then
  java_opts+=(-XX:SharedArchiveFile="$root/cli/target/derphole.jsa" -Xshare:auto)
fi
# The JVM decodes file names with the locale's charset: with no locale at all (a bare container,
# cron) it would be ASCII, and send/receive could not handle a name such as "ünï.txt".
if [ -z "${LC_ALL:-}${LC_CTYPE:-}${LANG:-}" ]; then
  export LC_ALL=C.UTF-8
fi
# shellcheck disable=SC2086
exec java "${java_opts[@]}" ${DERPHOLE_JAVA_OPTS:-} -cp "$jar" "$main_class" "$@"
