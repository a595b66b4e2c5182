# FRR from Debian 12 (8.4): the same package the interop tests run and DockerComposeTests checks frr.conf with.
FROM debian:12.11-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends frr >/dev/null \
 && rm -rf /var/lib/apt/lists/*
# frrinit.sh starts watchfrr, zebra and the daemons of /etc/frr/daemons, then loads frr.conf
# (both mounted by docker/compose.yaml); the shell then waits so the container keeps running.
CMD ["sh", "-c", "/usr/lib/frr/frrinit.sh start && exec sleep infinity"]
