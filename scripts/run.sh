#!/usr/bin/env bash
# The main job: builds bgpstream (Release) and runs it. With no arguments it dumps an MRT file of
# the shared corpus as `bgpdump -m` would; otherwise the arguments go to bgpstream, e.g.
#   scripts/run.sh dump -m updates.20260222.1530.bz2
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dotnet build src/BgpStream.Cli -c Release -v quiet -nologo >/dev/null
bin=src/BgpStream.Cli/bin/Release/net10.0/bgpstream
if [ $# -eq 0 ]; then
  corpus=${BGPSTREAM_CORPUS:-../shared/corpus}
  set -- dump -m "$corpus/morrowc__mrtparser/testdata/updates.20260222.1530.bz2"
fi
exec "$bin" "$@"
