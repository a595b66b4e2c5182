#!/usr/bin/env bash
# The main job: publishes bgpstream (once, and again whenever src/ changes) and runs it. With no
# arguments it replays a RIS and a RouteViews update file of the shared corpus, merged by time,
# through the pipeline into Arrow IPC and MRT files under ./bgpstream-data (no Kafka needed);
# otherwise the arguments go to bgpstream, e.g.
#   scripts/run.sh dump -m updates.20260222.1530.bz2
#   scripts/run.sh collect --config collector.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
out=artifacts/bgpstream
bin=$out/bgpstream
# Self-contained ReadyToRun composite (framework and app compiled together, so calls into the
# runtime inline): the fastest form for short dump runs (benchmarks/RESULTS.md). Takes ~1.5 min.
if [ ! -x "$bin" ] || [ -n "$(find src Directory.Build.props -newer "$bin" -type f 2>/dev/null | head -1)" ]; then
  echo "run: publishing bgpstream to $out (first run or sources changed)" >&2
  dotnet publish src/BgpStream.Cli -c Release -r linux-x64 --self-contained true \
    -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true -o "$out" -nologo -v quiet >&2
  touch "$bin"
fi
if [ $# -eq 0 ]; then
  corpus=${BGPSTREAM_CORPUS:-../shared/corpus}
  set -- replay "$corpus/RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz" \
    "$corpus/morrowc__mrtparser/testdata/updates.20260222.1530.bz2" \
    --format arrow --format mrt --out bgpstream-data
  echo "run: replaying two corpus update files into ./bgpstream-data (Arrow IPC and MRT)" >&2
fi
exec "$bin" "$@"
