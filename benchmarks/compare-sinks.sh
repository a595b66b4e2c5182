#!/usr/bin/env bash
# Whole-process speed of each sink (issue 4): `bgpstream replay FILE --format arrow|jsonl|mrt --out DIR`
# and `replay FILE --stdout` (JSON lines to /dev/null) with the built CLI, beside `bgpdump -m FILE`
# (to /dev/null) for scale. Per file and command: wall seconds (hyperfine -N, median and min; a
# /usr/bin/time loop without hyperfine), then one more run under /usr/bin/time for CPU seconds
# (user + system) and peak RSS. Elements/s = the file's elements (from the Arrow sink's summary) /
# median wall seconds. Each run writes into an emptied directory (a sink never overwrites a file).
# Prints a Markdown table; it does not edit benchmarks/RESULTS.md.
#
# Usage: benchmarks/compare-sinks.sh [--runs N] [--no-build] [--out-root DIR] [--files 'A B']
#   --runs N        timed runs per command and file (default 5, after one warm-up)
#   --no-build      use src/BgpStream.Cli/bin/Release/net10.0/bgpstream.dll as it is
#   --out-root DIR  where the sinks write (default a new directory under /tmp; /dev/shm for tmpfs)
#   --files 'A B'   corpus-relative files instead of the default three
# Environment: BGPSTREAM_CORPUS (corpus root; default ../shared/corpus beside the repository).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=5
BUILD=true
OUT_ROOT=
FILES=(
  RIPE-NCC__bgpdump/test_data/updates.et-header.2015.gz
  morrowc__mrtparser/testdata/updates.20260222.1530.bz2
  DevQps__bgp-rs/res/mrt/updates.20190101.0000.gz
)
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --no-build) BUILD=false; shift ;;
    --out-root) OUT_ROOT=$2; shift 2 ;;
    --files) read -r -a FILES <<< "$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "compare-sinks: unknown option $1" >&2; exit 2 ;;
  esac
done

log() { echo "compare-sinks: $*" >&2; }
CORPUS=${BGPSTREAM_CORPUS:-$(cd "$ROOT/.." && pwd)/shared/corpus}
[ -f "$CORPUS/SOURCES.md" ] || { log "corpus not found at $CORPUS (set BGPSTREAM_CORPUS)"; exit 2; }
[ -x /usr/bin/time ] || { log "GNU time (/usr/bin/time) is required for CPU seconds and peak RSS"; exit 2; }
HYPERFINE=$(command -v hyperfine || true)
[ -n "$HYPERFINE" ] || log "hyperfine not installed: timing with a /usr/bin/time loop"
BGPDUMP=$(command -v bgpdump || true)
[ -n "$BGPDUMP" ] || log "bgpdump not installed: no bgpdump row"

DLL=$ROOT/src/BgpStream.Cli/bin/Release/net10.0/bgpstream.dll
if $BUILD; then
  log "building the CLI (Release)"
  dotnet build "$ROOT/src/BgpStream.Cli" -c Release -v q -nologo >&2
fi
[ -f "$DLL" ] || { log "$DLL missing (build src/BgpStream.Cli -c Release)"; exit 2; }
DOTNET=$(command -v dotnet)

WORK=$(mktemp -d /tmp/compare-sinks.XXXXXX)
[ -n "$OUT_ROOT" ] || OUT_ROOT=$WORK/out
OUT_ROOT=$OUT_ROOT/compare-sinks.$$
mkdir -p "$OUT_ROOT"
trap 'rm -rf "$WORK" "$OUT_ROOT"' EXIT

# wall NAME CMD...: prints "median min" (seconds) of RUNS runs after one warm-up; the output directory is emptied before each.
wall() {
  local name=$1; shift
  if [ -n "$HYPERFINE" ]; then
    "$HYPERFINE" -N --style none --warmup 1 --runs "$RUNS" --prepare "rm -rf $OUT_ROOT/$name" \
      --export-json "$WORK/$name.json" --output null "$*" >/dev/null 2>&1 || { echo "failed failed"; return; }
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.3f %.3f" % (r["median"], r["min"]))' "$WORK/$name.json"
  else
    local times=()
    for i in $(seq 0 "$RUNS"); do
      rm -rf "${OUT_ROOT:?}/$name"
      /usr/bin/time -f '%e' -o "$WORK/$name.t" "$@" >/dev/null 2>/dev/null || true
      [ "$i" = 0 ] || times+=("$(cat "$WORK/$name.t")")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f %.3f\n", a[int((NR+1)/2)], a[1]}'
  fi
}

# usage NAME CMD...: one more run under /usr/bin/time: "user+sys seconds" and "peak RSS MiB"; stderr kept in WORK/NAME.err.
usage() {
  local name=$1; shift
  rm -rf "${OUT_ROOT:?}/$name"
  /usr/bin/time -f '%U %S %M' -o "$WORK/$name.usage" "$@" >/dev/null 2>"$WORK/$name.err" || true
  tail -n 1 "$WORK/$name.usage" | awk '{printf "%.2f %.1f\n", $1 + $2, $3 / 1024}'
}

echo "Run $(date -u '+%Y-%m-%d %H:%M') UTC on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before;"
echo "bgpstream at $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet -- src || echo ' (working tree differs)'), framework-dependent Release build (JIT), $RUNS runs after one warm-up per command; sinks write under $(dirname "$OUT_ROOT")."
echo
echo "| file | command | elements/s (median) | wall s median (min) | CPU s | peak RSS MiB |"
echo "|---|---|---:|---:|---:|---:|"
for f in "${FILES[@]}"; do
  path=$CORPUS/$f
  [ -f "$path" ] || { log "$f: not found"; continue; }
  short=$(basename "$f")
  # The element count, from the Arrow sink's summary line.
  rm -rf "$OUT_ROOT/count"
  "$DOTNET" "$DLL" replay "$path" --format arrow --out "$OUT_ROOT/count" 2>"$WORK/count.err" >/dev/null || true
  elements=$(sed -n 's/.*Arrow: \([0-9]*\) elements.*/\1/p' "$WORK/count.err" | head -n1)
  rm -rf "$OUT_ROOT/count"
  for sink in arrow jsonl mrt stdout bgpdump; do
    case $sink in
      stdout) cmd=("$DOTNET" "$DLL" replay "$path" --stdout); label='`replay --stdout` (JSON lines → /dev/null)' ;;
      bgpdump) [ -n "$BGPDUMP" ] || continue; cmd=("$BGPDUMP" -m "$path"); label='`bgpdump -m` (→ /dev/null)' ;;
      *) cmd=("$DOTNET" "$DLL" replay "$path" --format "$sink" --out "$OUT_ROOT/$sink"); label="\`replay --format $sink\`" ;;
    esac
    read -r median min < <(wall "$sink" "${cmd[@]}")
    read -r cpu rss < <(usage "$sink" "${cmd[@]}")
    rate=$(awk -v e="${elements:-0}" -v t="$median" 'BEGIN { if (t + 0 > 0 && e > 0) printf "%.2f M", e / t / 1e6; else print "?" }')
    echo "| \`$short\` ($elements elements) | $label | $rate | $median ($min) | $cpu | $rss |"
  done
done
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
