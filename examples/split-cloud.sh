#!/usr/bin/env bash
# The management side split into one process per component instance, on one machine over WebSocket:
# 1 data, 2 api, 2 orchestrator, 1 network+storage, 2 fabric (monitor + admin; one acts, one stands by)
# and 2 compute processes. Shows listManagementServers (who runs what) and the hosts, then tears down.
#
#   npm run build && examples/split-cloud.sh        # start, show, stop
#   examples/split-cloud.sh --keep                   # leave it running (Ctrl-C tears it down)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLI="$ROOT/dist/bin/cloudstackd.js"
[ -f "$CLI" ] || { echo "build first: npm run build" >&2; exit 1; }
KEEP="${1:-}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cloudstackd-split.XXXXXX")"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
  echo "stopped; removed $WORK"
}
trap cleanup EXIT INT TERM

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/secret"
chmod 600 "$WORK/secret"
COMMON=(--transport ws --cluster-name split --cluster-secret-file "$WORK/secret" --log-level warn)

SEED=""

# start NAME ROLES [extra args]: one process on a port the kernel picks, joining the data node (any
# member would do as a seed) at the address its ready line reported.
start() {
  local name=$1 roles=$2; shift 2
  local join=(); [ -z "$SEED" ] || join=(--join "$SEED")
  node "$CLI" --role="$roles" "${COMMON[@]}" --node-name "$name" --listen "127.0.0.1:0" "${join[@]}" "$@" > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}
wait_ready() {
  until grep -q '^ready' "$WORK/$1.log"; do
    sleep 0.2
    if grep -q '^cloudstackd:' "$WORK/$1.log"; then cat "$WORK/$1.log"; exit 1; fi
  done
}

start data data --data-dir "$WORK/db"
wait_ready data
SEED=$(sed -n 's/^ready .*address=\([^ ]*\).*/\1/p' "$WORK/data.log")
SEED=${SEED#ws://}
[ -n "$SEED" ] || { echo "the data node's ready line names no address:" >&2; cat "$WORK/data.log" >&2; exit 1; }
start api1 api --port 0
start api2 api --port 0
start orch1 orchestrator
start orch2 orchestrator
start netsto network,storage
start fabric1 fabric-monitor,fabric-admin
start fabric2 fabric-monitor,fabric-admin
start kvm-1 compute --cpu-cores 16 --memory 65536
start kvm-2 compute --cpu-cores 16 --memory 65536
for p in api1 api2 orch1 orch2 netsto fabric1 fabric2 kvm-1 kvm-2; do wait_ready "$p"; done
grep -h '^endpoint:' "$WORK/api1.log" "$WORK/api2.log"
ENDPOINT=$(sed -n 's/^endpoint: //p' "$WORK/api1.log")

# A signed GET with the admin keys from the data node's credentials.json (CloudStack's HMAC-SHA1).
call() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { createHmac } from "node:crypto";
    const [file, endpoint, command, field, ...cols] = process.argv.slice(1);
    const c = JSON.parse(readFileSync(file, "utf8"));
    const p = { command, response: "json", apiKey: c.apiKey };
    const enc = (s) => encodeURIComponent(s).replace(/[!\x27()*]/g, (x) => "%" + x.charCodeAt(0).toString(16).toUpperCase());
    const q = Object.keys(p).sort().map((k) => `${k}=${enc(p[k])}`).join("&");
    const sig = createHmac("sha1", c.secretKey).update(q.toLowerCase()).digest("base64");
    const body = await (await fetch(`${endpoint}?${q}&signature=${enc(sig)}`)).json();
    for (const x of body[`${command.toLowerCase()}response`][field] ?? []) console.log("  " + cols.map((k) => x[k]).join("  "));
  ' "$WORK/db/credentials.json" "$ENDPOINT" "$@"
}

for _ in $(seq 1 150); do
  [ "$(call listHosts host name state | grep -c ' Up')" = 2 ] && break
  sleep 0.2
done
echo "management processes (listManagementServers):"
call listManagementServers managementserver name components
echo "hosts:"
call listHosts host name state

if [ "$KEEP" = "--keep" ]; then
  echo "running; keys in $WORK/db/credentials.json. Ctrl-C stops it."
  wait
fi
