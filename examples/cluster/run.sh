#!/usr/bin/env bash
# Starts the whole cluster example on loopback: Redis (6380), rr-tcp instances a (chat on 7101,
# RPC 6101) and b (7102, RPC 6102) sharing it, and HAProxy on 7100 in front of both with
# send-proxy-v2. Ctrl-C (or the end of any one of them) stops them all.
#   examples/cluster/run.sh          then, in other terminals:  nc 127.0.0.1 7100
# Needs Debian's haproxy and redis-server, and `npm ci` done at the top of the checkout.
set -euo pipefail
cd "$(dirname "$0")"
export REDIS_URL="redis://127.0.0.1:${REDIS_PORT:-6380}"
for tool in haproxy redis-server; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed (apt-get install haproxy redis-server)" >&2; exit 1; }
done
rr_tcp=(node --import tsx ../../src/cli.ts)

pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

redis-server --port "${REDIS_PORT:-6380}" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning &
pids+=($!)
for _ in $(seq 50); do redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 && break; sleep 0.1; done

"${rr_tcp[@]}" serve -c a.rr.yaml &
pids+=($!)
"${rr_tcp[@]}" serve -c b.rr.yaml &
pids+=($!)
haproxy -db -f haproxy.cfg &
pids+=($!)

echo "run.sh: chat on 127.0.0.1:7100 (nc 127.0.0.1 7100); instances' RPC on 6101 and 6102; Ctrl-C stops it all" >&2
# Ends as soon as any one of them does (the others are then stopped by the trap).
wait -n
