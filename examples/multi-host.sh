#!/usr/bin/env bash
# A cloud spread over processes on one machine: 1 management node and 3 compute nodes over WebSocket.
#
#   npm run build && examples/multi-host.sh          # start, show the hosts Up, tear everything down
#   examples/multi-host.sh --keep                     # leave it running (Ctrl-C tears it down)
#
# Each compute node is `cloudstackd --role=compute --join <management address>`: it finds the management
# node by gossip and is admitted as a host of the zone's cluster (listHosts shows it Connecting, then Up).
# Add a fourth host the same way, from this or another machine. Over Redis, replace --listen/--join by
# --transport redis --redis-url redis://127.0.0.1:6379 on every node.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLI="$ROOT/dist/bin/cloudstackd.js"
[ -f "$CLI" ] || { echo "build first: npm run build" >&2; exit 1; }
KEEP="${1:-}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cloudstackd-multi-host.XXXXXX")"
MGMT_PORT="${MGMT_PORT:-7070}"
API_PORT="${API_PORT:-8080}"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
  echo "stopped; removed $WORK"
}
trap cleanup EXIT INT TERM

# The shared cluster secret: every node proves it holds it before any message passes.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/secret"
chmod 600 "$WORK/secret"
COMMON=(--transport ws --cluster-name multi-host --cluster-secret-file "$WORK/secret" --log-level warn)

node "$CLI" --role=management "${COMMON[@]}" --node-name mgmt --listen "127.0.0.1:$MGMT_PORT" \
  --data-dir "$WORK/mgmt" --port "$API_PORT" > "$WORK/mgmt.log" 2>&1 &
PIDS+=($!)
until grep -q '^ready' "$WORK/mgmt.log"; do sleep 0.2; kill -0 "${PIDS[0]}" 2>/dev/null || { cat "$WORK/mgmt.log"; exit 1; }; done
grep -E '^(endpoint|credentials):' "$WORK/mgmt.log"

for i in 1 2 3; do
  node "$CLI" --role=compute "${COMMON[@]}" --node-name "host-$i" --listen "127.0.0.1:$((MGMT_PORT + i))" \
    --join "127.0.0.1:$MGMT_PORT" --cpu-cores 16 --memory 65536 > "$WORK/host-$i.log" 2>&1 &
  PIDS+=($!)
done

# listHosts, signed with the admin keys from credentials.json (CloudStack's HMAC-SHA1 signature).
list_hosts() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { createHmac } from "node:crypto";
    const c = JSON.parse(readFileSync(process.argv[1], "utf8"));
    const p = { command: "listHosts", response: "json", apiKey: c.apiKey };
    const enc = (s) => encodeURIComponent(s).replace(/[!\x27()*]/g, (x) => "%" + x.charCodeAt(0).toString(16).toUpperCase());
    const q = Object.keys(p).sort().map((k) => `${k}=${enc(p[k])}`).join("&");
    const sig = createHmac("sha1", c.secretKey).update(q.toLowerCase()).digest("base64");
    const body = await (await fetch(`${c.endpoint}?${q}&signature=${enc(sig)}`)).json();
    for (const h of body.listhostsresponse.host ?? []) console.log(`${h.name} ${h.state} ${h.cpunumber} cores ${h.memorytotal / 2 ** 30} GiB`);
  ' "$WORK/mgmt/credentials.json"
}

for _ in $(seq 1 100); do
  [ "$(list_hosts | grep -c ' Up ')" = 3 ] && break
  sleep 0.2
done
echo "hosts:"
list_hosts | sed 's/^/  /'

if [ "$KEEP" = "--keep" ]; then
  echo "running; the API is at http://127.0.0.1:$API_PORT/client/api (keys in $WORK/mgmt/credentials.json). Ctrl-C stops it."
  wait
fi
