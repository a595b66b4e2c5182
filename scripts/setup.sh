#!/usr/bin/env bash
# Installs what BgpStream needs on a fresh Debian machine, only when missing. Idempotent.
#   scripts/setup.sh          what building and running need (scripts/build.sh, so scripts/run.sh and docker/)
#   scripts/setup.sh --tests  and what the tests need: reference tools, BGP daemons, readers, browser, brokers (scripts/test.sh)
set -euo pipefail
tests=false
[ "${1:-}" = "--tests" ] && tests=true

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -e /usr/lib/x86_64-linux-gnu/libbz2.so.1.0 ] || [ -e /lib/x86_64-linux-gnu/libbz2.so.1.0 ] || missing+=(libbz2-1.0)
# The Kafka sink's native library: Confluent.Kafka 1.9.3 binds to Debian's librdkafka.so.1 (2.0.2).
[ -e /usr/lib/x86_64-linux-gnu/librdkafka.so.1 ] || [ -e /lib/x86_64-linux-gnu/librdkafka.so.1 ] || missing+=(librdkafka1)
# Native AOT (src/BgpStream.Cli.Native, the shipped `bgpstream`) links with the system's C toolchain.
command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
interop=()
if $tests; then
command -v bgpdump >/dev/null 2>&1 || missing+=(bgpdump)      # reference decoder the tests compare against
# BGP speakers the interop tests (tests/BgpStream.Interop.Tests) peer with the collector; each test starts its own.
[ -x /usr/sbin/bird ] || interop+=(bird2)
[ -x /usr/lib/frr/bgpd ] || interop+=(frr)
command -v gobgpd >/dev/null 2>&1 || interop+=(gobgpd)
command -v exabgp >/dev/null 2>&1 || interop+=(exabgp)
[ -x /usr/sbin/bgpctl ] || interop+=(openbgpd)
command -v ip >/dev/null 2>&1 || interop+=(iproute2)   # IPv6 test addresses on lo (ip -6 addr add)
command -v nft >/dev/null 2>&1 || interop+=(nftables)   # the culling draft's packet filter on the test IXP's bridge
missing+=("${interop[@]}")
# Node.js runs the independent Arrow IPC readers of tests/BgpStream.Arrow.Tests (npm packages below).
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
# Debian's Chromium: the status page test (tests/BgpStream.Observability.Tests/browser) drives it headless.
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Debian's docker-compose 1.29 validates docker/compose.yaml in tests/BgpStream.Cli.Tests (config only, no engine).
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  # The packages enable system daemons (OpenBGPD would hold *:179); the tests run their own instances.
  if [ ${#interop[@]} -gt 0 ] && [ -d /run/systemd/system ]; then
    sudo_if_needed systemctl disable --now bird openbgpd frr gobgpd exabgp >/dev/null 2>&1 || true
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (dotnet on PATH)" >&2
  exit 1
fi

$tests || exit 0

# The Arrow readers the tests compare our files against (apache-arrow, arrow-rs in parquet-wasm, DuckDB in
# duckdb-wasm), pinned by package-lock.json; (re)installed when missing or when the lock file is newer.
readers="$(cd "$(dirname "$0")/.." && pwd)/tests/BgpStream.Arrow.Tests/readers"
if [ ! -f "$readers/node_modules/.package-lock.json" ] || [ "$readers/package-lock.json" -nt "$readers/node_modules/.package-lock.json" ]; then
  echo "setup: installing the Arrow test readers (npm ci in $readers)" >&2
  npm ci --prefix "$readers" --no-audit --no-fund --loglevel=error >/dev/null
fi

# playwright-core for the status page test, pinned by package-lock.json; it downloads no browser (Debian's chromium above).
browser="$(cd "$(dirname "$0")/.." && pwd)/tests/BgpStream.Observability.Tests/browser"
if [ ! -f "$browser/node_modules/.package-lock.json" ] || [ "$browser/package-lock.json" -nt "$browser/node_modules/.package-lock.json" ]; then
  echo "setup: installing the status page test's browser driver (npm ci in $browser)" >&2
  npm ci --prefix "$browser" --no-audit --no-fund --loglevel=error >/dev/null
fi

# The Kafka sink's test broker (Kafka 0.9.0.1 on Java 17) and kcat.
"$(dirname "$0")/setup-kafka.sh"
