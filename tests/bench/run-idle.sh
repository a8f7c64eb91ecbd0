#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What sonded costs when nobody is looking, and how a sample grows with
# the processes of the host.
#
#   BUILD_DIR=/tmp/build-bench-rel tests/bench/run-idle.sh [-d 60] [-r 1] [--fixtures 100,1000,10000]
#
# 1. Two daemons, no clients, side by side over the same D seconds (default
#    60): every plugin with history on (the default, 3600 s: the engine
#    samples every collector each second for it), and history off (nothing
#    subscribed, so nothing should be sampled). For each: RSS at the start
#    and end of the window, CPU %, threads, and wake-ups: context switches,
#    poll() calls (one per GLib main-loop iteration) and syscalls, counted
#    with `perf stat -p PID` (every thread, later ones included); without
#    perf, voluntary context switches summed from /proc/PID/task/*/status.
# 2. bench-collect --fixture-processes: the processes collector and the bare
#    scan on generated /proc trees of 100, 1,000 and 10,000 processes, in
#    FIXTURE_DIR (default /dev/shm).
#
# -r repeats part 1 (medians and spreads in the table). Servers are started
# and stopped by their PIDs.

set -u

. "$(dirname "$0")/bench-lib.sh"

duration=60
reps=1
fixtures=100,1000,10000

while [ $# -gt 0 ]; do
  case $1 in
    -d) duration=$2; shift ;;
    -r) reps=$2; shift ;;
    --fixtures) fixtures=$2; shift ;;
    -h|--help) sed -n '3,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-idle.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

sonded=$build/src/daemon/sonded
need "$sonded" "$build/tests/bench/bench-collect"
results=$work/results.tsv
: >"$results"
: >"$work/history-on.conf"
printf '[history]\nseconds=0\n' >"$work/history-off.conf"
export SONDE_PLUGIN_PATH=${SONDE_PLUGIN_PATH:-$build/plugins}
events=context-switches,task-clock,raw_syscalls:sys_enter,syscalls:sys_enter_poll

voluntary_switches() {
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'
}

# measure NAME PID: perf (or /proc) over the window, in the background;
# writes NAME.perf.
measure() {
  local name=$1 pid=$2
  if [ "$have_perf" = 1 ]; then
    # A second source for the wake-ups: the threads' own counts (those of
    # threads that exit in the window are lost).
    local switches
    switches=$(voluntary_switches "$pid")
    perf stat -x, -e "$events" -p "$pid" -- sleep "$duration" 2>"$work/$name.perf" >/dev/null
    echo "$(( $(voluntary_switches "$pid") - switches )),,voluntary-switches" >>"$work/$name.perf"
  else
    local ticks switches
    ticks=$(proc_cpu_ticks "$pid")
    switches=$(voluntary_switches "$pid")
    sleep "$duration"
    {
      echo "$(( ($(proc_cpu_ticks "$pid") - ticks) * 1000 / clk_tck )),msec,task-clock"
      echo "$(( $(voluntary_switches "$pid") - switches )),,voluntary-switches"
    } >"$work/$name.perf"
  fi
}

# perf_value FILE EVENT. perf says "<not counted>" when the process never
# ran while counting: no wake-up, no CPU, so 0.
perf_value() {
  awk -F, -v e="$2" '$3 == e { print ($1 == "<not counted>" ? 0 : $1) }' "$1"
}

echo "run-idle.sh: $(machine_line)"
echo "run-idle.sh: $reps round(s) of $duration s, wake-ups from $([ "$have_perf" = 1 ] && echo "perf stat ($events)" || echo "/proc/PID/task/*/status")"

for ((round = 0; round < reps; round++)); do
  declare -A pids=()
  for name in history-on history-off; do
    start_server "$name" "$sonded" --port 0 --config "$work/$name.conf" || exit 1
    pids[$name]=$server_pid
    server_pid=
  done
  sleep 5
  measuring=()
  for name in history-on history-off; do
    record idle - "$name" rss_start "$(awk -v k="$(rss_kib "${pids[$name]}")" 'BEGIN { print k / 1024 }')"
    measure "$name" "${pids[$name]}" &
    measuring+=($!)
  done
  wait "${measuring[@]}"
  for name in history-on history-off; do
    pid=${pids[$name]}
    cpu=$(perf_value "$work/$name.perf" task-clock)
    record idle - "$name" rss_end "$(awk -v k="$(rss_kib "$pid")" 'BEGIN { print k / 1024 }')"
    record idle - "$name" threads "$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")"
    record idle - "$name" cpu_pct "$(awk -v c="$cpu" -v d="$duration" 'BEGIN { print c / d / 10 }')"
    for pair in context-switches:cs_per_s voluntary-switches:vcs_per_s syscalls:sys_enter_poll:polls_per_s raw_syscalls:sys_enter:syscalls_per_s; do
      value=$(perf_value "$work/$name.perf" "${pair%:*}")
      [ -n "$value" ] && record idle - "$name" "${pair##*:}" "$(awk -v v="$value" -v d="$duration" 'BEGIN { print v / d }')"
    done
    printf '  round %d %-12s %s ms CPU in %s s; %s\n' $((round + 1)) "$name" "$cpu" "$duration" \
      "$(awk -F, '$3 != "task-clock" && $3 != "" { printf "%s %s, ", $1, $3 }' "$work/$name.perf")"
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
  done
done

echo
echo "== processes collector vs number of processes (fixture trees in ${FIXTURE_DIR:-/dev/shm})"
TMPDIR=${FIXTURE_DIR:-/dev/shm} "$build/tests/bench/bench-collect" --fixture-processes "$fixtures" -n 500

echo
echo "$(machine_line)"
"$python" "$bench_dir/bench-table.py" "$results"
