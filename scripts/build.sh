#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh) and publishes bgpstream to OUT (default
# artifacts/bgpstream, relative to the repository), once and again whenever a source under src/
# changes (not its build outputs: building the tests does not republish).
# scripts/run.sh and docker/Dockerfile both build through this script, so the image is built the
# way a developer machine builds it and what the tests prove there covers the image.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
out=${1:-artifacts/bgpstream}
bin=$out/bgpstream
# Two programs: the full CLI (src/BgpStream.Cli) in OUT/lib, a self-contained ReadyToRun composite
# (framework and app compiled together, so calls into the runtime inline); and OUT/bgpstream, the
# Native AOT front (src/BgpStream.Cli.Native), which runs `dump` itself, starting in ~10 ms instead
# of the runtime's ~70, and execs OUT/lib/bgpstream for everything else. Takes ~3 min.
if [ ! -x "$bin" ] || [ ! -x "$out/lib/bgpstream" ] || [ -n "$(find src Directory.Build.props \( -name bin -o -name obj \) -prune -o -type f -newer "$bin" -print 2>/dev/null | head -1)" ]; then
  echo "build: publishing bgpstream to $out (first run or sources changed)" >&2
  # Start clean, but only where a previous publish was (OUT may be a directory of the caller's).
  if [ -e "$out/bgpstream" ] || [ -e "$out/lib/bgpstream" ]; then rm -rf "$out"; fi
  dotnet publish src/BgpStream.Cli -c Release -r linux-x64 --self-contained true \
    -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true -o "$out/lib" -nologo -v quiet >&2
  dotnet publish src/BgpStream.Cli.Native -c Release -r linux-x64 -o "$out" -nologo -v quiet >&2
  touch "$bin"
fi
