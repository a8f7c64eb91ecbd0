#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Starts a sonded on a free port, runs bench-fanout against it, stops it.
#
#   BUILD_DIR=/tmp/build-bench tests/bench/run-fanout.sh [bench-fanout options]
#   e.g.  tests/bench/run-fanout.sh -n 10000 -d 30
#
# BUILD_DIR defaults to ./build. Both processes get RLIMIT_NOFILE raised to
# FD_LIMIT (default 65536; raising the hard limit needs root). The daemon's
# stderr is kept in a temporary directory; its warnings are shown at the end.

set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$here/../../build}
sonded=$build/src/daemon/sonded
bench=$build/tests/bench/bench-fanout
fd_limit=${FD_LIMIT:-65536}

for program in "$sonded" "$bench"; do
  if [ ! -x "$program" ]; then
    echo "run-fanout.sh: $program is missing; build first (ninja -C $build), or set BUILD_DIR" >&2
    exit 1
  fi
done

# The daemon needs one fd per client too. A non-root user keeps the hard limit.
if ! ulimit -n "$fd_limit" 2>/dev/null; then
  ulimit -Hn "$fd_limit" 2>/dev/null && ulimit -n "$fd_limit" 2>/dev/null ||
    ulimit -n "$(ulimit -Hn)"
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/sonded-fanout.XXXXXX")
log=$workdir/sonded.log
fifo=$workdir/stdout
mkfifo "$fifo"

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

"$sonded" --port 0 >"$fifo" 2>"$log" &
daemon=$!

# The first line is the URL. Reading the fifo keeps the daemon's stdout
# drained afterwards (by cat, in the background).
exec 3<"$fifo"
if ! read -r line <&3; then
  echo "run-fanout.sh: sonded exited before printing its URL:" >&2
  cat "$log" >&2
  exit 1
fi
cat <&3 >/dev/null &
url=${line##* }
case $url in
  ws://*) ;;
  *) echo "run-fanout.sh: unexpected first line from sonded: $line" >&2; exit 1 ;;
esac

echo "run-fanout.sh: sonded PID $daemon at $url, RLIMIT_NOFILE $(ulimit -n)"
"$bench" --pid "$daemon" "$@" "$url"
status=$?

kill -TERM "$daemon"
wait "$daemon"
daemon_status=$?
daemon=
echo "run-fanout.sh: sonded exited with status $daemon_status"
if grep -qiE 'warning|critical|error' "$log"; then
  echo "run-fanout.sh: the daemon logged:" >&2
  grep -iE 'warning|critical|error' "$log" | head -20 >&2
fi
exit $status
