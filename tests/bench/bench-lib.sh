# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shell helpers of run-compare.sh and run-idle.sh (bash; sourced, not run).
# Servers are started in the background, their URL read from the first line
# of their stdout, and stopped by the PID they were started with -- never by
# name, since other people's processes run on the same machine.

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${BUILD_DIR:-$bench_dir/../../build}
python=${PYTHON:-/usr/bin/python3}   # Debian's, with python3-psutil and python3-websockets
clk_tck=$(getconf CLK_TCK)

work=$(mktemp -d "${TMPDIR:-/tmp}/sonde-bench.XXXXXX")
server_pid=
server_url=
server_out=

# On exit, stops whatever we started and did not wait for yet: `jobs -p`
# lists only our own unreaped children, whose PIDs cannot have been reused.
bench_cleanup() {
  local pids
  pids=$(jobs -p)
  if [ -n "$pids" ]; then
    kill -TERM $pids 2>/dev/null
    wait $pids 2>/dev/null
  fi
  rm -rf "$work"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Each client is one fd here and one in the server: go to the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# perf's task-clock counts every thread of a process, those it starts
# later included, in ns; /proc/PID/stat counts in clock ticks (10 ms).
if perf stat -x, -e task-clock -- true >/dev/null 2>&1; then
  have_perf=1
else
  have_perf=0
fi

need() {
  for program in "$@"; do
    if [ ! -x "$program" ]; then
      echo "${0##*/}: $program is missing; build first (ninja -C $build), or set BUILD_DIR" >&2
      exit 1
    fi
  done
}

# start_server NAME COMMAND...: runs COMMAND in the background, waits for
# the "listening on URL" line; sets server_pid, server_url, server_out.
start_server() {
  local name=$1 line
  shift
  server_out=$work/$name.$RANDOM.out
  "$@" >"$server_out" 2>"$server_out.err" &
  server_pid=$!
  for _ in $(seq 100); do
    line=$(head -n 1 "$server_out" 2>/dev/null)
    case $line in
      "listening on "*) server_url=${line##* }; return 0 ;;
    esac
    if ! kill -0 "$server_pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  echo "${0##*/}: $name did not start:" >&2
  cat "$server_out.err" >&2
  server_pid=
  return 1
}

stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  server_pid=
}

# utime + stime of PID, in clock ticks.
proc_cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# cpu_window PID SECONDS: CPU time of PID (all its threads) over the next
# SECONDS, in ms.
cpu_window() {
  local pid=$1 seconds=$2 value before after
  if [ "$have_perf" = 1 ]; then
    value=$(perf stat -x, -e task-clock -p "$pid" -- sleep "$seconds" 2>&1 >/dev/null |
            awk -F, '$3 == "task-clock" { print $1 }')
    if [ -n "$value" ]; then
      echo "$value"
      return
    fi
  fi
  before=$(proc_cpu_ticks "$pid")
  sleep "$seconds"
  after=$(proc_cpu_ticks "$pid")
  echo $(( (after - before) * 1000 / clk_tck ))
}

rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# record SECTION N SERVER METRIC VALUE: one figure of one run.
record() {
  [ -n "$5" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"
}

machine_line() {
  echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
}
