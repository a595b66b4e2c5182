#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, builds, runs every
# test project, and ends with one summary line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
corpus=${BGPSTREAM_CORPUS:-../shared/corpus}
if [ ! -f "$corpus/SOURCES.md" ]; then
  echo "test: THE BGP CORPUS IS MISSING at $corpus (set BGPSTREAM_CORPUS); corpus tests will fail" >&2
fi
dotnet build BgpStream.sln -c Release -nologo -v quiet
# The shipped bgpstream (Native AOT front + full CLI in lib/): tests/BgpStream.Cli.Tests/ShippedBinaryTests runs it.
scripts/build.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test BgpStream.sln -c Release --no-build -nologo 2>&1 | tee "$log" || status=$?
# Sum the per-project summaries ("Passed!  - Failed: 0, Passed: 40, Skipped: 0, ...").
read -r passed failed skipped < <(grep -E '(Passed|Failed)! +- Failed:' "$log" \
  | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$passed" -eq 0 ]; then echo "test: no test ran" >&2; exit 1; fi
exit $status
