#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh) and publishes bgpstream to OUT (default
# artifacts/bgpstream, relative to the repository), once and again whenever src/ changes.
# scripts/run.sh and docker/Dockerfile both build through this script, so the image is built the
# way a developer machine builds it and what the tests prove there covers the image.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
out=${1:-artifacts/bgpstream}
bin=$out/bgpstream
# Self-contained ReadyToRun composite (framework and app compiled together, so calls into the
# runtime inline): the fastest form for short dump runs (benchmarks/RESULTS.md). Takes ~1.5 min.
if [ ! -x "$bin" ] || [ -n "$(find src Directory.Build.props -newer "$bin" -type f 2>/dev/null | head -1)" ]; then
  echo "build: publishing bgpstream to $out (first run or sources changed)" >&2
  dotnet publish src/BgpStream.Cli -c Release -r linux-x64 --self-contained true \
    -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true -o "$out" -nologo -v quiet >&2
  touch "$bin"
fi
