#!/usr/bin/env bash
# Issue 3 "Scale": builds the load generator (Release) and runs, one after the other,
#   1. 2,000 sessions held 10 minutes (no drop allowed; memory per idle session),
#   2. 10,000 sessions held 1 minute (the 1 GiB aim),
#   3. one full table (1,000,000 prefixes from the corpus RIBs) into the collector and into BIRD 2.
# Results (Markdown) go to stdout and to $OUT (default artifacts/loadgen/RESULTS-<date>.md);
# progress to stderr. Every step has a timeout; the load generator kills its child processes
# (the peer process, BIRD) and removes its temporary directories also when a step fails.
#   SESSIONS_MINUTES=10 BIG_SESSIONS=10000 BIG_MINUTES=1 PREFIXES=1000000 REPEAT=3 benchmarks/BgpStream.LoadGen/run-scale.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
sessions_minutes=${SESSIONS_MINUTES:-10}
big=${BIG_SESSIONS:-10000}
big_minutes=${BIG_MINUTES:-1}
prefixes=${PREFIXES:-1000000}
repeat=${REPEAT:-3}
out=${OUT:-artifacts/loadgen/RESULTS-$(date -u +%Y%m%d-%H%M).md}
mkdir -p "$(dirname "$out")"

command -v bird >/dev/null || { echo "run-scale: BIRD 2 is missing (apt-get install bird2)" >&2; exit 2; }
dotnet build benchmarks/BgpStream.LoadGen -c Release -nologo -v quiet >&2
dll=benchmarks/BgpStream.LoadGen/bin/Release/net10.0/BgpStream.LoadGen.dll

# Each session is one descriptor in the collector process and one in the peer process (they are
# separate processes); raise the soft limit to the hard one, and say so when that is too low.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((big + 256)) ]; then
  echo "run-scale: open-file limit $(ulimit -n) is below $((big + 256)); raise the hard limit (ulimit -Hn) for $big sessions" >&2
fi

status=0
run() {
  local minutes=$1; shift
  echo "run-scale: $*" >&2
  # Bounded: the step's own duration plus 10 minutes for set-up, table building and tear-down.
  timeout --kill-after=30 $(( (minutes + 10) * 60 )) dotnet "$dll" "$@" | tee -a "$out" || status=1
}

{ echo "## Scale runs, $(date -u '+%Y-%m-%d %H:%M') UTC, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"; echo; } | tee "$out"
run "$sessions_minutes" sessions --count 2000 --hold-minutes "$sessions_minutes"
run "$big_minutes" sessions --count "$big" --hold-minutes "$big_minutes"
run 5 fulltable --prefixes "$prefixes" --repeat "$repeat" --bird
echo "run-scale: results in $out (exit $status)" >&2
exit $status
