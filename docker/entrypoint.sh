#!/bin/sh
# Container entrypoint: prepare per-process state, then run the given command
# (gunicorn by default, see CMD in docker/Dockerfile).
set -eu

# Prometheus multiprocess files of a previous run of this container are stale.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  rm -rf "$PROMETHEUS_MULTIPROC_DIR"
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi

exec "$@"
