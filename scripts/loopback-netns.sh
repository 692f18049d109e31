#!/bin/sh
# Runs scripts/loopback-check.ts in a network namespace whose only interface is loopback, once
# per mode. Needs root (ip netns). Usage: sh scripts/loopback-netns.sh [node chromium chromium-loopback]
set -eu
cd "$(dirname "$0")/.."
ns="mm-lo-$$"
ip netns add "$ns"
trap 'ip netns delete "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
for mode in ${*:-node chromium chromium-loopback}; do
  ip netns exec "$ns" node --import tsx scripts/loopback-check.ts "$mode" 20
done
