#!/usr/bin/env bash
# Issue 5 "State it needs": memory per route of N full tables (default 10 × 1,000,000 prefixes, each
# peer its own session, AS, next hops and a share of its own paths) in bgpstream's Adj-RIB-In (behind
# the in-process collector) and in BIRD 2, from the same UPDATE bytes, in one run. Builds the load
# generator (Release) and runs `BgpStream.LoadGen ribmemory`; the Markdown block goes to stdout and
# to $OUT (default artifacts/loadgen/RIBMEMORY-<date>.md), progress to stderr. It does not edit
# benchmarks/RESULTS.md. Exit status 0 only when every route arrived at both receivers.
#   PEERS=10 PREFIXES=1000000 benchmarks/compare-rib-memory.sh      # ~1-2 min, ~1 GiB in each process
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${PEERS:-10}
prefixes=${PREFIXES:-1000000}
out=${OUT:-artifacts/loadgen/RIBMEMORY-$(date -u +%Y%m%d-%H%M).md}
mkdir -p "$(dirname "$out")"

command -v bird >/dev/null || { echo "compare-rib-memory: BIRD 2 is missing (apt-get install bird2)" >&2; exit 2; }
dotnet build benchmarks/BgpStream.LoadGen -c Release -nologo -v quiet >&2
dll=benchmarks/BgpStream.LoadGen/bin/Release/net10.0/BgpStream.LoadGen.dll
# Bounded: the load generator kills BIRD and removes its directory on failure and on the signal.
set +e
timeout --kill-after=30 1800 dotnet "$dll" ribmemory --peers "$peers" --prefixes "$prefixes" | tee "$out"
status=${PIPESTATUS[0]}
set -e
echo "compare-rib-memory: result in $out (exit $status)" >&2
exit "$status"
