#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Starts a sonded hub on a free port with a shared agent token, runs
# bench-vstats against it, stops it.
#
#   BUILD_DIR=/tmp/build-bench tests/bench/run-vstats.sh [bench-vstats options]
#   e.g.  tests/bench/run-vstats.sh -n 1000 -D 10 -d 60
#
# BUILD_DIR defaults to ./build. Both processes get RLIMIT_NOFILE raised as
# far as the hard limit allows. The hub's stderr is kept in a temporary
# directory; its warnings are shown at the end.

set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$here/../../build}
sonded=$build/src/daemon/sonded
bench=$build/tests/bench/bench-vstats
token=bench-token-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

for program in "$sonded" "$bench"; do
  if [ ! -x "$program" ]; then
    echo "run-vstats.sh: $program is missing; build first (ninja -C $build), or set BUILD_DIR" >&2
    exit 1
  fi
done

ulimit -n "$(ulimit -Hn)" 2>/dev/null

workdir=$(mktemp -d "${TMPDIR:-/tmp}/sonded-vstats.XXXXXX")
log=$workdir/sonded.log
fifo=$workdir/stdout
mkfifo "$fifo"
cat >"$workdir/hub.conf" <<CONF
[hub]
agent-tokens=$token
CONF

daemon=
cleanup() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon"
    wait "$daemon"
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

XDG_CONFIG_HOME=$workdir DBUS_SESSION_BUS_ADDRESS=disabled: \
  "$sonded" --port 0 --config "$workdir/hub.conf" >"$fifo" 2>"$log" &
daemon=$!

exec 3<"$fifo"
if ! read -r line <&3; then
  echo "run-vstats.sh: sonded exited before printing its URL:" >&2
  cat "$log" >&2
  exit 1
fi
cat <&3 >/dev/null &
url=${line##* }
base=${url%/ws/v1}
case $base in
  ws://*) ;;
  *) echo "run-vstats.sh: unexpected first line from sonded: $line" >&2; exit 1 ;;
esac

echo "run-vstats.sh: sonded PID $daemon at $base, RLIMIT_NOFILE $(ulimit -n)"
"$bench" --pid "$daemon" --token "$token" "$@" "$base"
status=$?

kill -TERM "$daemon"
wait "$daemon"
daemon_status=$?
daemon=
echo "run-vstats.sh: sonded exited with status $daemon_status"
if grep -qiE 'warning|critical|error' "$log"; then
  echo "run-vstats.sh: the hub logged:" >&2
  grep -iE 'warning|critical|error' "$log" | head -20 >&2
fi
exit $status
