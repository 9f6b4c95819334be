#!/usr/bin/env bash
# Stops the loopback control plane and removes its state dir; see cluster.sh.
# Usage: tests/cluster/down.sh [STATE_DIR]   (default $HATANG_CLUSTER_STATE)
exec "$(dirname "$0")/cluster.sh" down "$@"
