#!/usr/bin/env bash
# Starts the loopback control plane; see cluster.sh. Usage: eval "$(tests/cluster/up.sh [STATE_DIR])"
exec "$(dirname "$0")/cluster.sh" up "$@"
