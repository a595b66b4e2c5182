# BIRD from Debian 12 (2.0.12): the same package the interop tests run and DockerComposeTests parses bird.conf with.
FROM debian:12.11-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bird2 >/dev/null \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /run/bird
# -f: foreground, the container's main process; the configuration is mounted by docker/compose.yaml.
CMD ["bird", "-f", "-c", "/etc/bird/bird.conf", "-s", "/run/bird/bird.ctl"]
