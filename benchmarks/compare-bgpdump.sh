#!/usr/bin/env bash
# Whole-process comparison of `bgpstream dump -m` with Debian's `bgpdump -m` on four corpus files:
# checks that the outputs are byte-identical, times both with hyperfine (or a /usr/bin/time loop),
# records the peak RSS of each, prints a table and writes it into benchmarks/RESULTS.md (between
# the compare-bgpdump markers, leaving the rest of the file alone).
#
# Usage: benchmarks/compare-bgpdump.sh [options]
#   --runs N          timed runs per command and file (default 5)
#   --rib-runs N      timed runs for rib.bz2, where bgpdump takes ~45 s per run (default 3)
#   --rev REV         build that git revision (exported to a temp dir) instead of the working tree
#   --env 'K=V ...'   extra environment for bgpstream only (e.g. 'DOTNET_TieredPGO=0')
#   --build KIND      how the CLI is published: native (default, as scripts/build.sh ships `bgpstream`:
#                     the Native AOT front, src/BgpStream.Cli.Native, which runs dump itself),
#                     composite (the full CLI as scripts/build.sh publishes it to lib/: self-contained,
#                     framework + app in one ReadyToRun composite), r2r (framework-dependent
#                     ReadyToRun), jit (framework-dependent, no ReadyToRun)
#   --no-results      print the table only; do not touch benchmarks/RESULTS.md
#   --files 'A B'     corpus-relative files to compare instead of the default four
# Environment: BGPSTREAM_CORPUS (corpus root; default ../shared/corpus beside the repository),
#              KEEP=1 keeps the work directory (outputs, hyperfine JSON).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=5
RIB_RUNS=3
REV=
EXTRA_ENV=
BUILD=native
WRITE_RESULTS=true
FILES=(
  RIPE-NCC__bgpdump/test_data/updates.et-header.2015.gz
  morrowc__mrtparser/testdata/updates.20260222.1530.bz2
  RIPE-NCC__bgpdump/test_data/bview.20020722.2337.gz
  codebje__hask-mrt/test/data/rib.bz2
)
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --rib-runs) RIB_RUNS=$2; shift 2 ;;
    --rev) REV=$2; shift 2 ;;
    --env) EXTRA_ENV=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --no-results) WRITE_RESULTS=false; shift ;;
    --files) read -r -a FILES <<< "$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "compare-bgpdump: unknown option $1" >&2; exit 2 ;;
  esac
done

CORPUS=${BGPSTREAM_CORPUS:-$(cd "$ROOT/.." && pwd)/shared/corpus}
[ -f "$CORPUS/SOURCES.md" ] || { echo "compare-bgpdump: corpus not found at $CORPUS (set BGPSTREAM_CORPUS)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/compare-bgpdump.XXXXXX)
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

log() { echo "compare-bgpdump: $*" >&2; }

# ---- tools -------------------------------------------------------------------------------------
apt_install() {
  local SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y "$@" >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null 2>&1 && $SUDO apt-get install -y "$@" >/dev/null 2>&1; }
}
command -v bgpdump >/dev/null || { log "installing bgpdump"; apt_install bgpdump; }
command -v bgpdump >/dev/null || { log "bgpdump is required (apt-get install bgpdump)"; exit 2; }
[ -x /usr/bin/time ] || { log "installing GNU time"; apt_install time || true; }
[ -x /usr/bin/time ] || { log "GNU time (/usr/bin/time) is required for peak RSS"; exit 2; }
command -v hyperfine >/dev/null || { log "installing hyperfine"; apt_install hyperfine || true; }
HYPERFINE=$(command -v hyperfine || true)
[ -n "$HYPERFINE" ] || log "hyperfine unavailable: timing with a /usr/bin/time loop"

# ---- build -------------------------------------------------------------------------------------
SRC=$ROOT
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
TREE="working tree at $COMMIT"
if [ -n "$REV" ]; then
  SRC=$WORK/src
  mkdir -p "$SRC"
  git -C "$ROOT" archive "$REV" | tar -x -C "$SRC"
  COMMIT=$(git -C "$ROOT" rev-parse --short "$REV")
  TREE="commit $COMMIT"
elif [ -n "$(git -C "$ROOT" status --porcelain -- src 2>/dev/null)" ]; then
  TREE="working tree at $COMMIT with uncommitted changes in src/"
fi
BASE_PUBLISH=(dotnet publish "$SRC/src/BgpStream.Cli" -c Release -r linux-x64
              --artifacts-path "$WORK/artifacts" -o "$WORK/bgpstream" -nologo)
PUBLISH=("${BASE_PUBLISH[@]}")
case "$BUILD" in
  r2r) PUBLISH+=(--self-contained false -p:PublishReadyToRun=true); BUILD_KIND="framework-dependent, ReadyToRun" ;;
  jit) PUBLISH+=(--self-contained false); BUILD_KIND="framework-dependent, JIT" ;;
  composite) PUBLISH+=(--self-contained true -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true)
             BUILD_KIND="self-contained, ReadyToRun composite (framework + app)" ;;
  native) PUBLISH=(dotnet publish "$SRC/src/BgpStream.Cli.Native" -c Release -r linux-x64
                   --artifacts-path "$WORK/artifacts" -o "$WORK/bgpstream" -nologo)
          BUILD_KIND="Native AOT front (src/BgpStream.Cli.Native), as scripts/build.sh ships bgpstream" ;;
  *) log "unknown --build $BUILD (native, composite, r2r, jit)"; exit 2 ;;
esac
log "publishing bgpstream (Release, $BUILD_KIND) from the $TREE"
if ! "${PUBLISH[@]}" > "$WORK/publish.log" 2>&1; then
  tail -20 "$WORK/publish.log" >&2
  if [ "$BUILD" = jit ]; then exit 2; fi
  log "that publish failed; falling back to a plain framework-dependent publish"
  rm -rf "$WORK/artifacts" "$WORK/bgpstream"
  BUILD=jit; BUILD_KIND="framework-dependent, JIT (fallback)"
  "${BASE_PUBLISH[@]}" --self-contained false > "$WORK/publish.log" 2>&1 || { tail -20 "$WORK/publish.log" >&2; exit 2; }
fi
BGPSTREAM=$WORK/bgpstream/bgpstream
# shellcheck disable=SC2206
BGPSTREAM_CMD=(env $EXTRA_ENV "$BGPSTREAM")
[ -n "$EXTRA_ENV" ] && BUILD_KIND="$BUILD_KIND, env $EXTRA_ENV"

# The build must run here before anything is timed: an empty input prints nothing and exits 0.
: > "$WORK/empty.mrt"
"${BGPSTREAM_CMD[@]}" dump -m "$WORK/empty.mrt" > "$WORK/empty.out" || { log "the published bgpstream does not run"; exit 2; }
[ ! -s "$WORK/empty.out" ] || { log "bgpstream printed output for an empty file"; exit 2; }

# ---- measure -----------------------------------------------------------------------------------
# time_cmd NAME RUNS CMD... -> prints "median min mean" in seconds
time_cmd() {
  local name=$1 runs=$2; shift 2
  if [ -n "$HYPERFINE" ]; then
    "$HYPERFINE" -N -i --style none --warmup 0 --runs "$runs" --export-json "$WORK/$name.json" "$(printf '%q ' "$@")" >/dev/null 2>&1
    # hyperfine's JSON: the results' "median", "min", "mean" (seconds)
    awk -F': ' '/"median"/{gsub(/[ ,]/,"",$2); md=$2} /"min"/{gsub(/[ ,]/,"",$2); mn=$2} /"mean"/{gsub(/[ ,]/,"",$2); me=$2}
                END{printf "%s %s %s\n", md, mn, me}' "$WORK/$name.json"
  else
    local i
    for ((i = 0; i < runs; i++)); do
      /usr/bin/time -f '%e' -o "$WORK/$name.t" "$@" > /dev/null 2>/dev/null
      cat "$WORK/$name.t"
    done | sort -n | awk '{a[NR]=$1; s+=$1} END{printf "%s %s %s\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2), a[1], s/NR}'
  fi
}

# rss_and_output NAME OUT CMD... -> runs once, output to OUT, prints peak RSS in KiB
rss_and_output() {
  local name=$1 out=$2; shift 2
  /usr/bin/time -f '%M' -o "$WORK/$name.rss" "$@" > "$out" 2>"$WORK/$name.stderr" || true
  tail -1 "$WORK/$name.rss"
}

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
MEM=$(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)
MACHINE="$(nproc) cores ($CPU), $MEM RAM, $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
BGPDUMP_VERSION=$(dpkg-query -W -f '${Version}' bgpdump 2>/dev/null || echo unknown)
DOTNET_VERSION=$(dotnet --version)
RUNTIME_VERSION=$(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/{v=$2} END{print v}')
TIMER=$([ -n "$HYPERFINE" ] && echo "hyperfine $("$HYPERFINE" --version | awk '{print $2}') (-N, no shell; output to /dev/null)" || echo "/usr/bin/time loop")
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START_TIME=$(date -u '+%Y-%m-%d %H:%M UTC')

STARTUP=$(time_cmd startup "$RUNS" "${BGPSTREAM_CMD[@]}" dump -m "$WORK/empty.mrt" | awk '{print $1}')

ROWS=()
STATUS=0
for f in "${FILES[@]}"; do
  path=$CORPUS/$f
  name=$(basename "$f")
  [ -f "$path" ] || { log "missing corpus file $f"; exit 2; }
  runs=$RUNS; [ "$name" = rib.bz2 ] && runs=$RIB_RUNS
  log "$name: checking outputs"
  rss_bgpdump=$(rss_and_output "bgpdump-$name" "$WORK/$name.bgpdump.txt" bgpdump -m "$path")
  rss_bgpstream=$(rss_and_output "bgpstream-$name" "$WORK/$name.bgpstream.txt" "${BGPSTREAM_CMD[@]}" dump -m "$path")
  lines=$(wc -l < "$WORK/$name.bgpdump.txt")
  if cmp -s "$WORK/$name.bgpdump.txt" "$WORK/$name.bgpstream.txt"; then same=yes
  else same="**NO** ($(cmp "$WORK/$name.bgpdump.txt" "$WORK/$name.bgpstream.txt" 2>&1 | head -1 | sed 's/.*: //'))"; STATUS=1; fi
  log "$name: timing bgpdump ($runs runs)"
  read -r d_med d_min _ < <(time_cmd "bgpdump-$name" "$runs" bgpdump -m "$path")
  log "$name: timing bgpstream ($runs runs)"
  read -r s_med s_min _ < <(time_cmd "bgpstream-$name" "$runs" "${BGPSTREAM_CMD[@]}" dump -m "$path")
  ROWS+=("$(awk -v f="$name" -v l="$lines" -v dm="$d_med" -v dn="$d_min" -v sm="$s_med" -v sn="$s_min" \
              -v rd="$rss_bgpdump" -v rs="$rss_bgpstream" -v same="$same" 'BEGIN{
      printf "| `%s` | %d | %.3f (%.3f) | %.3f (%.3f) | **%.1fx** (%.1fx) | %.1f | %.1f | %s |",
             f, l, dm, dn, sm, sn, dm/sm, dn/sn, rd/1024, rs/1024, same }')")
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ------------------------------------------------------------------------------------
{
  echo "<!-- compare-bgpdump:begin (written by benchmarks/compare-bgpdump.sh; edits here are overwritten) -->"
  echo "### Whole process: \`bgpstream dump -m\` vs \`bgpdump -m\`"
  echo
  echo "Run $START_TIME on $MACHINE; load average ${LOAD_BEFORE} before, ${LOAD_AFTER} after."
  echo "bgpstream: $TREE, $BUILD_KIND, .NET SDK $DOTNET_VERSION / runtime $RUNTIME_VERSION. bgpdump $BGPDUMP_VERSION (Debian)."
  echo "Timer: $TIMER; $RUNS runs per command ($RIB_RUNS for rib.bz2) after one untimed run that produced the compared outputs."
  echo "Seconds are wall-clock **median (min)**; ratio = bgpdump / bgpstream on medians (on minima). Peak RSS from /usr/bin/time."
  echo "bgpstream process start-up alone (empty input): $(awk -v s="$STARTUP" 'BEGIN{printf "%.3f", s}') s median."
  echo
  echo "| file | lines | bgpdump s | bgpstream s | speed-up | bgpdump MiB | bgpstream MiB | identical |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Reproduce: \`benchmarks/compare-bgpdump.sh$([ "$RUNS" != 5 ] && echo " --runs $RUNS")$([ "$RIB_RUNS" != 3 ] && echo " --rib-runs $RIB_RUNS")$([ -n "$REV" ] && echo " --rev $REV")$([ -n "$EXTRA_ENV" ] && echo " --env '$EXTRA_ENV'")$([ "$BUILD" != r2r ] && echo " --build $BUILD")\`"
  echo "<!-- compare-bgpdump:end -->"
} > "$WORK/section.md"

cat "$WORK/section.md"

if $WRITE_RESULTS; then
  RESULTS=$ROOT/benchmarks/RESULTS.md
  if [ -f "$RESULTS" ] && grep -q '<!-- compare-bgpdump:begin' "$RESULTS"; then
    awk -v section="$WORK/section.md" '
      /<!-- compare-bgpdump:begin/ { while ((getline line < section) > 0) print line; skip = 1; next }
      /<!-- compare-bgpdump:end/ { skip = 0; next }
      !skip { print }' "$RESULTS" > "$WORK/RESULTS.md"
    cp "$WORK/RESULTS.md" "$RESULTS"
  else
    { [ -f "$RESULTS" ] && cat "$RESULTS" && echo; cat "$WORK/section.md"; } > "$WORK/RESULTS.md"
    cp "$WORK/RESULTS.md" "$RESULTS"
  fi
  log "wrote $RESULTS"
fi
[ "$STATUS" = 0 ] || log "outputs differ (see the identical column)"
exit "$STATUS"
