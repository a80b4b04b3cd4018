#!/usr/bin/env bash
# fn-sandbox.sh <rootfs> [--exec PROGRAM] [--wd DIR] [-- <args for PROGRAM>...]
#
# Runs PROGRAM (default /function/func: what `cargo fdk image` puts in an
# image; `--exec` gives an image's entrypoint, a path inside the rootfs) in DIR
# (default /function; `--wd` gives the image's WorkingDir) from an unpacked
# image root file system the way the Fn
# server's Docker driver runs a function container (shared/reference/images.md
# §1.5), without a daemon, so that it can be given to the conformance harness
# as the function command: `fdk-conformance run -- scripts/fn-sandbox.sh ROOTFS`.
#
#   root        ROOTFS bind-mounted read-only in a private mount namespace
#   /tmp        a tmpfs, mode 1777 (nosuid, nodev)
#   /tmp/iofs   the directory of FN_LISTENER's socket, bound read-write
#   /proc       a proc mount, and /dev a tmpfs with null, zero, full, random,
#               urandom and tty bound in (as Docker provides them), and /sys a
#               read-only sysfs with this machine's cgroup file system at
#               /sys/fs/cgroup (read-only to the function: uid 1000 can write
#               no cgroup file), when the rootfs has those directories (a
#               scratch image has none; create them empty after unpacking, as
#               scripts/image-suite.sh and fdk-conformance run --image do)
#   user        uid 1000, gid 1000, no supplementary groups, no capabilities
#               (a non-root uid, and no_new_privs)
#   network     none: a new network namespace holding only a down loopback
#   namespaces  also new IPC and UTS namespaces
#   limits      RLIMIT_NOFILE 350; 50 tasks: the caller's pids cgroup, or RLIMIT_NPROC 50
#   cwd         DIR, /function by default (the image's WorkingDir)
#   stdin/out   as given; the environment as given, except FN_LISTENER
#
# FN_LISTENER=unix:<dir>/<name> becomes unix:/tmp/iofs/<name>, with <dir>
# bound there. Any other value, or none, is passed on unchanged, so a function
# given a bad environment still sees it and fails on its own.
#
# The function keeps this script's PID: every step execs the next (bash ->
# prlimit -> unshare -> sh (mounts, in child processes) -> setpriv -> unshare
# --root -> PROGRAM); nothing forks a process that stays. Signals sent
# to the PID (SIGTERM, SIGSTOP/SIGCONT), /proc/<pid> and the exit status are
# the function's own. (bubblewrap always forks and waits, so its PID is not
# the function's.) There is no PID namespace (that would need a fork). The
# PID limit is the caller's pids cgroup when it gives one of at most 50 (as
# Docker's is), else the uid's RLIMIT_NPROC (see below).
#
# Needs root (mount and network namespaces, chroot, setuid) and util-linux's
# prlimit, unshare and setpriv. Exit 2 with a message when those are missing
# or the arguments are wrong; otherwise the exit status is the function's.
set -euo pipefail

die() {
  echo "fn-sandbox.sh: $*" >&2
  exit 2
}

[ $# -ge 1 ] || die "usage: fn-sandbox.sh <rootfs> [-- <args>...]"
case "$1" in
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
esac
[ "$(id -u)" -eq 0 ] \
  || die "needs root (mount and network namespaces, chroot, setuid to 1000); run it as root"
for tool in prlimit unshare setpriv mount; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool (util-linux) is not installed"
done
case "$(unshare --help 2>/dev/null)" in
  *--wd=*) ;;
  *) die "this unshare has no --root/--wd/--setuid (util-linux 2.38 has them)" ;;
esac

rootfs=$(cd -- "$1" 2>/dev/null && pwd -P) || die "rootfs $1 is not a directory"
shift
program=/function/func
wd=/function
while [ $# -gt 0 ]; do
  case "$1" in
    --exec) [ $# -ge 2 ] || die "--exec needs a program"; program=$2; shift 2 ;;
    --wd) [ $# -ge 2 ] || die "--wd needs a directory"; wd=$2; shift 2 ;;
    --) shift; break ;;
    *) die "unexpected argument $1 (arguments for the function go after --)" ;;
  esac
done
case "$program" in /*) ;; *) die "--exec $program: give a path inside the rootfs, starting with /" ;; esac
case "$wd" in /*) ;; *) die "--wd $wd: give a path inside the rootfs, starting with /" ;; esac
[ -e "$rootfs$program" ] || [ -L "$rootfs$program" ] || die "$rootfs$program does not exist"
[ -d "$rootfs/tmp" ] || die "$rootfs/tmp does not exist (the image must have /tmp, 1777)"
# uid 1000 must be able to enter / (mktemp -d makes 0700 directories).
[ -n "$(find "$rootfs" -maxdepth 0 -perm -0005)" ] \
  || die "$rootfs is not readable and searchable by others (chmod 0755 it; / is 0755 in a container)"

# Where FN_LISTENER's socket lives on this side; empty when it is passed on as is.
iofs=""
if [ -n "${FN_LISTENER+set}" ]; then
  case "$FN_LISTENER" in
    unix:*/*)
      socket_path=${FN_LISTENER#unix:}
      iofs=${socket_path%/*}
      iofs=${iofs:-/}
      [ -d "$iofs" ] || die "FN_LISTENER's directory $iofs does not exist"
      export FN_LISTENER="unix:/tmp/iofs/${socket_path##*/}"
      ;;
  esac
fi

# Runs as root in the new namespaces, then execs the function. The mounts are
# on a bind of the rootfs onto itself, private to this mount namespace: the
# rootfs directory itself is not changed, and all of it goes when the
# function exits. $1 rootfs, $2 iofs directory (or empty), then the arguments.
# shellcheck disable=SC2016 # expanded by the inner sh
setup='
set -eu
root=$1 iofs=$2 program=$3 wd=$4
shift 4
mount --bind "$root" "$root"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
mkdir -m 0755 "$root/tmp/iofs"
if [ -n "$iofs" ]; then
  mount --bind "$iofs" "$root/tmp/iofs"
fi
if [ -d "$root/proc" ]; then
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
fi
if [ -d "$root/sys" ]; then
  mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
  # The cgroup file system, read-only, as Docker shows a container its own
  # cgroup: a runtime that sizes itself by its memory limit (the JVM) finds
  # the limit the harness set, where it would otherwise size itself by the
  # machine and be killed at the limit.
  if [ -d /sys/fs/cgroup ] && [ -d "$root/sys/fs/cgroup" ]; then
    mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup"
    mount -o remount,bind,ro "$root/sys/fs/cgroup"
  fi
fi
if [ -d "$root/dev" ]; then
  mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs "$root/dev"
  for node in null zero full random urandom tty; do
    : > "$root/dev/$node"
    mount --bind "/dev/$node" "$root/dev/$node"
  done
  ln -s /proc/self/fd "$root/dev/fd"
  ln -s /proc/self/fd/0 "$root/dev/stdin"
  ln -s /proc/self/fd/1 "$root/dev/stdout"
  ln -s /proc/self/fd/2 "$root/dev/stderr"
  mkdir -m 1777 "$root/dev/shm"
fi
mount -o remount,bind,ro,nosuid,nodev "$root"
exec setpriv --no-new-privs -- \
  unshare --root="$root" --wd="$wd" --setgid=1000 --setuid=1000 -- "$program" "$@"
'

# The server's 50 tasks are Docker's pids cgroup, counted per container. Where
# the caller already put this process in a pids cgroup of at most 50 (the
# harness's cgroup sandbox does), that is the limit, as in Docker; otherwise
# RLIMIT_NPROC stands in for it. NPROC counts every task of the host's uid
# 1000 (there is no user namespace), so with a cgroup it is left off: two
# containers started side by side would otherwise share one budget of 50.
pids_max() { # the pids.max of this process's pids cgroup (v1 or v2), or nothing
  local file
  file=$(awk -F: '$2 ~ /(^|,)pids(,|$)/ { print "/sys/fs/cgroup/pids" $3 "/pids.max"; exit }
    $1 == "0" && $2 == "" { v2 = "/sys/fs/cgroup" $3 "/pids.max" }
    END { if (v2 != "") print v2 }' /proc/self/cgroup 2>/dev/null | head -1)
  [ -n "$file" ] && cat "$file" 2>/dev/null || true
}
limit=$(pids_max)
nproc=(--nproc=50)
case "$limit" in
  '' | *[!0-9]*) ;;
  *) if [ "$limit" -le 50 ]; then nproc=(); fi ;;
esac

exec prlimit "${nproc[@]}" --nofile=350 -- \
  unshare --mount --net --ipc --uts --propagation private -- \
  /bin/sh -c "$setup" fn-sandbox "$rootfs" "$iofs" "$program" "$wd" "$@"
