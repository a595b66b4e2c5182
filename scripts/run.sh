#!/usr/bin/env bash
# The main job: publishes bgpstream (once, and again whenever src/ changes) and runs it. With no
# arguments it replays a RIS and a RouteViews update file of the shared corpus, merged by time,
# through the pipeline into Arrow IPC and MRT files under ./bgpstream-data (no Kafka needed);
# otherwise the arguments go to bgpstream, e.g.
#   scripts/run.sh dump -m updates.20260222.1530.bz2
#   scripts/run.sh collect --config collector.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/bgpstream
bin=$out/bgpstream
scripts/build.sh "$out"   # set-up and publish, shared with docker/Dockerfile
if [ $# -eq 0 ]; then
  corpus=${BGPSTREAM_CORPUS:-../shared/corpus}
  set -- replay "$corpus/RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz" \
    "$corpus/morrowc__mrtparser/testdata/updates.20260222.1530.bz2" \
    --format arrow --format mrt --out bgpstream-data
  echo "run: replaying two corpus update files into ./bgpstream-data (Arrow IPC and MRT)" >&2
fi
exec "$bin" "$@"
