#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Measures sonded against its floors and its peers in one run, and prints
# Markdown tables of medians, spreads and ratios (see README.md).
#
#   BUILD_DIR=/tmp/build-bench-rel tests/bench/run-compare.sh [options]
#
#   -n LIST        client counts, comma-separated (default 1000; e.g. 100,1000,10000)
#   -d SECONDS     fan-out measurement window (default 20)
#   -r REPS        repetitions, interleaved: each round starts each server in turn,
#                  the order rotating from round to round (default 3)
#   -s SECONDS     sampling window (default 20)
#   --sections L   any of sampling,fanout,storm (default all three, in that order:
#                  sampling first, before the fan-out's TIME_WAIT sockets make
#                  /proc/net/tcp longer)
#   --deflate      also run sonded and python-reference with clients that offer
#                  permessage-deflate, as browsers do
#   --groups LIST  also run sonded with each N clients spread over G distinct
#                  subscription groups, for each G of LIST (e.g. 1,10,100,1000)
#   --frame-size B payload of the send floor's frames (default 2900)
#
# Servers: the send floor with 1 and 2 threads (bench-send-floor), sonded
# (BUILD_DIR/src/daemon/sonded, defaults, an empty config file) and
# python-reference.py. Sampling peers: the kernel-read floor (bench-collect
# --paced-only), sonded at 10 Hz with history off and one client of every
# metric at interval_ms 100 (its idle CPU, measured first without the
# client, is subtracted), collectd (Debian's collectd-core, the matching
# plugins at Interval 0.1, no write plugin) and python-reference at 100 ms.
# Each is started by its PID and stopped by it. Figures from a machine
# that other work shares are provisional: look at the spreads.

set -u

. "$(dirname "$0")/bench-lib.sh"

counts=1000
duration=20
reps=3
sampling_s=20
sections=sampling,fanout,storm
deflate=0
frame_size=2900
groups=

while [ $# -gt 0 ]; do
  case $1 in
    -n) counts=$2; shift ;;
    -d) duration=$2; shift ;;
    -r) reps=$2; shift ;;
    -s) sampling_s=$2; shift ;;
    --sections) sections=$2; shift ;;
    --deflate) deflate=1 ;;
    --groups) groups=$2; shift ;;
    --frame-size) frame_size=$2; shift ;;
    -h|--help) sed -n '3,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bench=$build/tests/bench
sonded=$build/src/daemon/sonded
need "$sonded" "$bench/bench-fanout" "$bench/bench-send-floor" "$bench/bench-storm" "$bench/bench-collect"
results=$work/results.tsv
: >"$results"
: >"$work/empty.conf"
printf '[history]\nseconds=0\n' >"$work/history-off.conf"
export SONDE_PLUGIN_PATH=${SONDE_PLUGIN_PATH:-$build/plugins}

has_section() {
  case ,$sections, in *,$1,*) return 0 ;; *) return 1 ;; esac
}

# rotate ROUND ITEMS...: the items, starting at ROUND mod their number.
rotate() {
  local round=$1
  shift
  local items=("$@") i
  for ((i = 0; i < ${#items[@]}; i++)); do
    echo "${items[(i + round) % ${#items[@]}]}"
  done
}

# start_named NAME: starts the server a row of the tables is named after.
start_named() {
  case ${1%+deflate} in
    floor-1t) start_server "$1" "$bench/bench-send-floor" --threads 1 --size "$frame_size" ;;
    floor-2t) start_server "$1" "$bench/bench-send-floor" --threads 2 --size "$frame_size" ;;
    sonded) start_server "$1" "$sonded" --port 0 --config "$work/empty.conf" ;;
    python) start_server "$1" "$python" "$bench_dir/python-reference.py" --port 0 ;;
  esac
}

field() {   # field FILE PATTERN N: the Nth word of the first line matching PATTERN
  awk -v n="$3" "/$2/ { v = \$n; gsub(/^\\+/, \"\", v); print v; exit }" "$1"
}

# Fan-out ---------------------------------------------------------------

fanout_run() {
  local name=$1 n=$2 round=$3 out flags=
  out=$work/fanout-$name-$n-$round.out
  case $name in *+deflate) flags=--deflate ;; esac
  start_named "$name" || return
  "$bench/bench-fanout" -n "$n" -d "$duration" $flags --pid "$server_pid" "$server_url" >"$out" 2>&1
  stop_server
  record fanout "$n" "$name" cpu "$(field "$out" '^daemon CPU' 9)"
  record fanout "$n" "$name" rss_end "$(field "$out" '^daemon RSS' 10)"
  record fanout "$n" "$name" rss_per_client "$(field "$out" '^daemon RSS' 12)"
  record fanout "$n" "$name" p50 "$(field "$out" '^latency' 3)"
  record fanout "$n" "$name" p99 "$(field "$out" '^latency' 9)"
  record fanout "$n" "$name" spread "$(field "$out" '^fan-out' 10)"
  record fanout "$n" "$name" connect "$(field "$out" '^connect ' 5)"
  record fanout "$n" "$name" connect_cpu "$(field "$out" '^connect CPU' 4)"
  record fanout "$n" "$name" lost "$(awk '/^frames / { print $NF; exit }' "$out")"
  record fanout "$n" "$name" frame "$(field "$out" '^size' 2)"
  record fanout "$n" "$name" deflate "$(awk '/^deflate/ { for (i = 2; i <= NF; i++) if ($i == "of") { print $(i - 1); exit } }' "$out")"
  record fanout "$n" "$name" client_cpu "$(field "$out" '^client CPU' 9)"
  printf '  %-16s %s | %s | %s\n' "$name" "$(grep '^latency' "$out" | cut -c14-60)" \
    "$(grep '^frames' "$out" | cut -c14-)" "$(grep '^daemon CPU' "$out" | cut -c14-)"
  grep -E '^(connect err|errors|closed +[1-9])' "$out" | sed 's/^/    /'
  # The floor's own account: sends, EAGAIN, the send loop's time per tick.
  grep -E '^(sends|send loop)' "$server_out" 2>/dev/null | sed 's/^/    floor: /'
}

# Distinct groups: the same frame content, each group encoded on its own.
groups_run() {
  local g=$1 n=$2 round=$3 out name="sonded g=$1"
  out=$work/groups-$g-$n-$round.out
  start_named sonded || return
  "$bench/bench-fanout" -n "$n" -d "$duration" -g "$g" --pid "$server_pid" "$server_url" >"$out" 2>&1
  stop_server
  record groups "$n" "$name" cpu "$(field "$out" '^daemon CPU' 9)"
  record groups "$n" "$name" rss_per_client "$(field "$out" '^daemon RSS' 12)"
  record groups "$n" "$name" p50 "$(field "$out" '^latency' 3)"
  record groups "$n" "$name" p99 "$(field "$out" '^latency' 9)"
  record groups "$n" "$name" lost "$(awk '/^frames / { print $NF; exit }' "$out")"
  record groups "$n" "$name" encodings "$(field "$out" '^groups' 5)"
  printf '  %-16s %s | %s | %s\n' "$name" "$(grep '^latency' "$out" | cut -c14-60)" \
    "$(grep '^groups' "$out" | cut -c14-)" "$(grep '^daemon CPU' "$out" | cut -c14-)"
}

# Reconnect storm ---------------------------------------------------------

storm_run() {
  local name=$1 n=$2 round=$3 out
  out=$work/storm-$name-$n-$round.out
  start_named "$name" || return
  "$bench/bench-storm" -n "$n" --hold 1 "$server_url" >"$out" 2>&1
  stop_server
  record storm "$n" "$name" done "$(awk '/^storm/ { split($2, a, "/"); print a[1]; exit }' "$out")"
  record storm "$n" "$name" time "$(field "$out" '^storm' 5)"
  record storm "$n" "$name" hs_p50 "$(field "$out" '^handshake' 6)"
  record storm "$n" "$name" hs_p99 "$(field "$out" '^handshake' 12)"
  record storm "$n" "$name" failed "$(field "$out" '^storm' 12)"
  record storm "$n" "$name" overflows "$(field "$out" '^tcpext' 3)"
  record storm "$n" "$name" syn_retrans "$(field "$out" '^tcpext' 9)"
  record storm "$n" "$name" closed "$(field "$out" '^closed' 2)"
  printf '  %-16s %s | %s | %s\n' "$name" "$(grep '^storm' "$out" | cut -c14-)" "$(grep '^tcpext' "$out" | cut -c14-)" \
    "$(grep '^closed' "$out" | cut -c14-)"
}

# Sampling ----------------------------------------------------------------

sampling_floor() {
  local out=$work/collect-$1.out
  "$bench/bench-collect" --paced-only --paced "$sampling_s" --rate 10 >"$out" 2>&1
  record sampling - floor cpu_us "$(field "$out" '^kernel-read floor' 3)"
  record sampling - floor wall_us "$(field "$out" '^kernel-read floor' 4)"
  record sampling - floor rate 10
  record sampling - sonded-collectors cpu_us "$(field "$out" '^full sample' 3)"
  record sampling - sonded-collectors wall_us "$(field "$out" '^full sample' 4)"
  record sampling - sonded-collectors rate 10
  printf '  %-16s %s\n  %-16s %s\n' floor "$(grep '^kernel-read floor' "$out")" \
    sonded-collectors "$(grep '^full sample' "$out")"
}

# sampling_served NAME ROUND IDLE_SECONDS: a server at 10 Hz with one client
# of every metric at 100 ms; its idle CPU first, when IDLE_SECONDS > 0.
sampling_served() {
  local name=$1 round=$2 idle_s=$3 out idle=0 cpu client received expected
  out=$work/sampling-$name-$round.out
  if [ "$name" = sonded ]; then
    start_server sonded "$sonded" --port 0 --config "$work/history-off.conf" || return
  else
    start_server python "$python" "$bench_dir/python-reference.py" --port 0 --interval-ms 100 || return
  fi
  sleep 2
  [ "$idle_s" -gt 0 ] && idle=$(cpu_window "$server_pid" "$idle_s")
  "$bench/bench-fanout" -n 1 -i 100 -m '*' -d $((sampling_s + 2)) --grace 1 "$server_url" >"$out" 2>&1 &
  client=$!
  sleep 3
  cpu=$(cpu_window "$server_pid" "$sampling_s")
  wait "$client"
  stop_server
  received=$(field "$out" '^frames' 3)
  expected=$(field "$out" '^frames' 6)
  awk -v cpu="$cpu" -v idle="$idle" -v idle_s="$idle_s" -v s="$sampling_s" \
      -v received="$received" -v expected="$expected" 'BEGIN {
    rate = expected > 0 ? 10 * received / expected : 10
    idle_rate = idle_s > 0 ? idle / idle_s : 0
    printf "%.3f %.3f %.2f\n", (cpu - idle_rate * s) * 1000 / (rate * s), idle_rate, rate
  }' >"$out.figures"
  read -r cpu_us idle_rate rate <"$out.figures"
  record sampling - "$name" cpu_us "$cpu_us"
  record sampling - "$name" rate "$rate"
  [ "$idle_s" -gt 0 ] && record sampling - "$name" idle_ms_s "$idle_rate"
  if [ "$name" = python ]; then
    # Its own account of the wall time of one collection.
    record sampling - python wall_us "$(awk '/^python-reference:/ { print $5 * 1000 }' "$server_out")"
  fi
  printf '  %-16s %.0f µs CPU per sample (%s ms CPU in %s s, idle %s ms/s subtracted), %s samples/s\n' \
    "$name" "$cpu_us" "$cpu" "$sampling_s" "$idle_rate" "$rate"
}

sampling_collectd() {
  local round=$1 dir=$work/collectd-$1 pid cpu
  if ! command -v /usr/sbin/collectd >/dev/null; then
    echo "  collectd         not installed (apt-get install collectd-core); skipped"
    return
  fi
  mkdir -p "$dir"
  # The plugins matching sonded's collectors, every 100 ms; no write
  # plugin, so the values go nowhere (the "no write callback" notice is
  # logged at info level, below LogLevel).
  cat >"$dir/collectd.conf" <<EOF
Hostname "bench"
FQDNLookup false
BaseDir "$dir"
PIDFile "$dir/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 0.1
LoadPlugin logfile
<Plugin logfile>
  LogLevel "warning"
  File "$dir/collectd.log"
</Plugin>
LoadPlugin cpu
LoadPlugin load
LoadPlugin memory
LoadPlugin swap
LoadPlugin df
LoadPlugin disk
LoadPlugin interface
LoadPlugin tcpconns
LoadPlugin processes
<Plugin tcpconns>
  ListeningPorts false
  AllPortsSummary true
</Plugin>
EOF
  /usr/sbin/collectd -f -C "$dir/collectd.conf" >"$dir/stdout" 2>&1 &
  pid=$!
  sleep 3
  cpu=$(cpu_window "$pid" "$sampling_s")
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null
  record sampling - collectd cpu_us "$(awk -v c="$cpu" -v s="$sampling_s" 'BEGIN { printf "%.3f", c * 1000 / (10 * s) }')"
  record sampling - collectd rate 10
  printf '  %-16s %s ms CPU in %s s at 10 Hz\n' collectd "$cpu" "$sampling_s"
  grep -iE 'too long|error|warn' "$dir/collectd.log" | head -3 | sed 's/^/    collectd: /'
}

# The run -------------------------------------------------------------------

echo "run-compare.sh: $(machine_line)"
echo "run-compare.sh: N = $counts, $reps round(s), fan-out window $duration s, sampling window $sampling_s s," \
     "CPU from $([ "$have_perf" = 1 ] && echo "perf task-clock" || echo "/proc/PID/stat"), RLIMIT_NOFILE $(ulimit -n)"

if has_section sampling; then
  echo "== sampling at 10 Hz ($(($(wc -l </proc/net/tcp) + $(wc -l </proc/net/tcp6) - 2)) lines in /proc/net/tcp + tcp6)"
  for ((round = 0; round < reps; round++)); do
    echo "round $((round + 1)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    for peer in $(rotate "$round" floor sonded collectd python); do
      case $peer in
        floor) sampling_floor "$round" ;;
        sonded) sampling_served sonded "$round" 10 ;;
        collectd) sampling_collectd "$round" ;;
        python) sampling_served python "$round" 0 ;;
      esac
    done
  done
fi

servers=(floor-1t floor-2t sonded python)
[ "$deflate" = 1 ] && servers+=(sonded+deflate python+deflate)

for n in ${counts//,/ }; do
  if has_section fanout; then
    echo "== fan-out, N = $n"
    for ((round = 0; round < reps; round++)); do
      echo "round $((round + 1)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
      for name in $(rotate "$round" "${servers[@]}"); do
        fanout_run "$name" "$n" "$round"
      done
    done
  fi
  if [ -n "$groups" ]; then
    echo "== distinct subscription groups, N = $n"
    for ((round = 0; round < reps; round++)); do
      echo "round $((round + 1)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
      for g in $(rotate "$round" ${groups//,/ }); do
        groups_run "$g" "$n" "$round"
      done
    done
  fi
  if has_section storm; then
    echo "== reconnect storm, N = $n"
    for ((round = 0; round < reps; round++)); do
      echo "round $((round + 1)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
      for name in $(rotate "$round" floor-1t floor-2t sonded python); do
        storm_run "$name" "$n" "$round"
      done
    done
  fi
done

echo
echo "$(machine_line)"
"$python" "$bench_dir/bench-table.py" "$results"
if [ -n "${KEEP_RESULTS:-}" ]; then
  cp "$results" "$KEEP_RESULTS"
  echo "run-compare.sh: figures kept in $KEEP_RESULTS"
fi
