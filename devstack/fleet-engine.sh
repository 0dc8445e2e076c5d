#!/usr/bin/env bash
# Installs Debian's Docker engine (and mmdebstrap, iptables) if missing and starts dockerd in
# the background if it is not answering: this machine has no systemd to do it. Idempotent.
#   devstack/fleet-engine.sh start   # install if needed, start if not running
#   devstack/fleet-engine.sh stop    # stop the dockerd this script started (by its pid file)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOCAL=${LOCAL:-$ROOT/.local}
RUN=$LOCAL/run
DATA_ROOT=${FLEET_DOCKER_DATA_ROOT:-$LOCAL/docker}
PIDFILE=$RUN/fleet-dockerd.pid
LOG=$RUN/logs/fleet-dockerd.log
SOCKET=${FLEET_DOCKER_SOCKET:-/var/run/docker.sock}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v ssh >/dev/null || missing+=(openssh-client)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "error: ${missing[*]} missing; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

answering() { docker -H "unix://$SOCKET" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start() {
  install_packages
  if answering; then return 0; fi
  mkdir -p "$RUN/logs" "$DATA_ROOT"
  say "starting dockerd (data under $DATA_ROOT, log $LOG)"
  # The legacy backend: the containers' own iptables (the security groups) use it too.
  nohup dockerd --data-root "$DATA_ROOT" --storage-driver overlay2 --host "unix://$SOCKET" \
    --pidfile "$PIDFILE" >>"$LOG" 2>&1 &
  for _ in $(seq 60); do
    answering && return 0
    sleep 1
  done
  echo "error: dockerd did not answer within 60 s; see $LOG" >&2
  exit 1
}

stop() {
  [ -s "$PIDFILE" ] || { echo "dockerd: not started by this checkout"; return 0; }
  local pid
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping dockerd ($pid)"
    kill "$pid"
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$PIDFILE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
