#!/usr/bin/env bash
# tests/fuzz/run-fuzzers.sh [OPTIONS] [TARGET...] [-- LIBFUZZER-ARGS...]
#
# Builds the fuzz build directory if needed, then runs each libFuzzer
# target of tests/fuzz (all of them, or those named: fuzz-json, json ...)
# one after the other, in one process each (one core), for a number of
# executions and/or seconds. New interesting inputs are added to the
# target's corpus, tests/fuzz/corpus/TARGET/; crashes, leaks and timeouts
# are written to OUT/artifacts/TARGET/. Prints one line per target:
# executions, time, executions per second, coverage (cov: edges, ft:
# features), corpus growth and findings; exits 1 if anything was found.
#
#   -t SECONDS   stop each target after SECONDS (default 60 unless -r is given)
#   -r RUNS      stop each target after RUNS executions
#   -o OUT       logs and artifacts (default build-fuzz/fuzz-out)
#   -m           minimise each corpus afterwards (-merge=1), in place; the
#                inputs that once crashed a target (regress-*) are kept
#   -l           list the targets and exit
#
# Environment: SONDE_FUZZ_BUILD_DIR (default build-fuzz at the top), CC
# (default clang).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build="${SONDE_FUZZ_BUILD_DIR:-$top/build-fuzz}"
fuzz_src="$top/tests/fuzz"
out=""
seconds=""
runs=""
merge=0

# Every target, in the order they run; a target's dictionary, if any.
targets=(
  fuzz-json fuzz-native-message fuzz-kairos-subscription fuzz-resolvix-control
  fuzz-servercontrol fuzz-vstats-agent fuzz-discovery-probe fuzz-filter fuzz-config
  fuzz-proc-cpu fuzz-proc-memory fuzz-proc-disk fuzz-proc-network
  fuzz-proc-processes fuzz-proc-host fuzz-log-follower
)
declare -A dicts=(
  [fuzz-json]=json [fuzz-native-message]=native [fuzz-kairos-subscription]=kairos
  [fuzz-resolvix-control]=resolvix [fuzz-servercontrol]=servercontrol
  [fuzz-vstats-agent]=vstats [fuzz-discovery-probe]=json [fuzz-filter]=filter
  [fuzz-config]=config [fuzz-proc-cpu]=proc [fuzz-proc-memory]=proc [fuzz-proc-disk]=proc
  [fuzz-proc-network]=proc [fuzz-proc-processes]=proc [fuzz-proc-host]=proc
)

usage () {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 2
}

while getopts "t:r:o:mlh" option; do
  case "$option" in
    t) seconds=$OPTARG ;;
    r) runs=$OPTARG ;;
    o) out=$OPTARG ;;
    m) merge=1 ;;
    l) printf '%s\n' "${targets[@]}"; exit 0 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))

selected=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  name=$1
  [[ $name == fuzz-* ]] || name="fuzz-$name"
  if [[ " ${targets[*]} " != *" $name "* ]]; then
    echo "run-fuzzers: no target $1 (-l lists them)" >&2
    exit 2
  fi
  selected+=("$name")
  shift
done
[ "${1:-}" = "--" ] && shift
extra=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${targets[@]}")
[ -n "$seconds" ] || [ -n "$runs" ] || seconds=60
out="${out:-$build/fuzz-out}"

# The build: clang, the sanitizers, coverage for everything.
"$top/tools/install-deps" fuzz
if [ ! -f "$build/build.ninja" ]; then
  CC="${CC:-clang}" meson setup "$build" "$top" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dintrospection=disabled -Dtests=false
fi
meson compile -C "$build" "${selected[@]/#/tests/fuzz/}" >/dev/null

# GSlice would hide use-after-free from ASan (the targets re-execute
# themselves with it otherwise); UBSan's findings must stop the run.
export G_SLICE=always-malloc
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

limits=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
[ -n "$seconds" ] && limits+=(-max_total_time="$seconds")
[ -n "$runs" ] && limits+=(-runs="$runs")

mkdir -p "$out/logs"
status=0
printf '%-26s %12s %8s %8s %6s %7s %14s %s\n' TARGET EXECUTIONS TIME EXEC/S COV FT CORPUS FINDINGS
for target in "${selected[@]}"; do
  corpus="$fuzz_src/corpus/$target"
  artifacts="$out/artifacts/$target"
  log="$out/logs/$target.log"
  args=("${limits[@]}" -artifact_prefix="$artifacts/")
  [ -n "${dicts[$target]:-}" ] && args+=(-dict="$fuzz_src/dict/${dicts[$target]}.dict")
  mkdir -p "$corpus" "$artifacts"

  before=$(find "$corpus" -type f | wc -l)
  found_before=$(find "$artifacts" -type f | wc -l)
  start=$(date +%s.%N)
  rc=0
  "$build/tests/fuzz/$target" "${args[@]}" "${extra[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  end=$(date +%s.%N)

  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  after=$(find "$corpus" -type f | wc -l)
  findings=$(( $(find "$artifacts" -type f | wc -l) - found_before ))
  if [ "$rc" -ne 0 ] || [ "$findings" -gt 0 ]; then
    status=1
    what="$findings in $artifacts (exit $rc; $log)"
  else
    what=none
  fi
  printf '%-26s %12s %7.0fs %8s %6s %7s %14s %s\n' "$target" "${executions:-?}" \
    "$(awk "BEGIN { print $end - $start }")" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$before->$after" "$what"
done

if [ "$merge" -eq 1 ]; then
  for target in "${selected[@]}"; do
    corpus="$fuzz_src/corpus/$target"
    merged=$(mktemp -d)
    "$build/tests/fuzz/$target" -merge=1 "$merged" "$corpus" >"$out/logs/$target.merge.log" 2>&1
    # Inputs that once crashed (regress-*) stay, whatever their coverage.
    find "$corpus" -type f ! -name 'regress-*' -delete
    cp -n "$merged"/* "$corpus"/ 2>/dev/null || true
    rm -rf "$merged"
    echo "$target: corpus minimised to $(find "$corpus" -type f | wc -l) files"
  done
fi

exit "$status"
