#!/usr/bin/env bash
# arm64 programs on an x86-64 Linux host through qemu-user (Debian's qemu-user-static), for the
# arm64 bundle's class archive, its end-to-end tests and bench/dist.sh.
#   dist/arm64.sh setup    registers qemu-aarch64 with binfmt_misc (root; idempotent) and
#                          unpacks an arm64 sysroot (libc, libstdc++, zlib from Debian's arm64
#                          packages); prints the sysroot's path
#   dist/arm64.sh check    exit 0 when an arm64 program runs here (after setup)
# Run an arm64 program with QEMU_LD_PREFIX=<sysroot> in its environment.
set -euo pipefail
# shellcheck source=dist/jdk.sh
. "$(dirname "$0")/jdk.sh"

sysroot() {
  debs_unpacked sysroot-arm64 libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 zlib1g:arm64
}

binfmt() {
  local fs=/proc/sys/fs/binfmt_misc
  if [ ! -e "$fs/register" ]; then
    mount -t binfmt_misc binfmt_misc "$fs"
  fi
  if [ ! -e "$fs/qemu-aarch64" ]; then
    # Debian's entry for systemd-binfmt; flag F opens the interpreter now, so it also works in
    # other mount namespaces and chroots.
    cat /usr/lib/binfmt.d/qemu-aarch64.conf > "$fs/register"
  fi
  echo 1 > "$fs/qemu-aarch64"
}

case ${1:-} in
  setup)
    command -v qemu-aarch64-static >/dev/null || { echo "dist/arm64.sh: install qemu-user-static" >&2; exit 1; }
    binfmt
    sysroot
    ;;
  check)
    root=$(sysroot)
    # Any arm64 executable of the sysroot: its dynamic loader runs itself.
    QEMU_LD_PREFIX=$root "$root/lib/ld-linux-aarch64.so.1" --version >/dev/null 2>&1
    ;;
  *) echo "usage: dist/arm64.sh setup|check" >&2; exit 2 ;;
esac
