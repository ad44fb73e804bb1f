#!/usr/bin/env bash
# HTTP load benchmark: tributary serving a 50-entry category feed against
# nginx serving the identical bytes as a static file, in the same run, on
# loopback only. Needs wrk and nginx (Debian: wrk, nginx-light).
#
#   bench/run.sh [DURATION] [CONNECTIONS] [THREADS]     (defaults: 10s 32 2)
#
# Prints requests/s for tributary 200, tributary 304 (If-None-Match),
# nginx 200 and nginx 304, and the ratio of the 200 rates.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-10s}
conns=${2:-32}
threads=${3:-2}
tport=18931
nport=18932
feed=/feeds/world.atom

for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool not found (Debian: apt-get install wrk nginx-light curl)" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_up() {
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: $1 did not come up" >&2; exit 1
}

go build -o "$work/feedserve" ./bench/feedserve
"$work/feedserve" -addr "127.0.0.1:$tport" 2>"$work/feedserve.log" &
pids+=($!)
wait_up "http://127.0.0.1:$tport$feed"

# nginx serves the identical bytes, fetched from tributary.
mkdir -p "$work/root/feeds" "$work/nginx"
curl -fsS -o "$work/root$feed" "http://127.0.0.1:$tport$feed"
# nginx workers started by root run as an unprivileged user: let them read.
chmod -R a+rX "$work"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  types { application/atom+xml atom; }
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$nport;
    root $work/root;
    add_header Cache-Control "public, max-age=60";
  }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_up "http://127.0.0.1:$nport$feed"

cmp <(curl -fsS "http://127.0.0.1:$tport$feed") <(curl -fsS "http://127.0.0.1:$nport$feed")
bytes=$(wc -c <"$work/root$feed")
tetag=$(curl -fsSI "http://127.0.0.1:$tport$feed" | tr -d '\r' | awk 'tolower($1)=="etag:"{print $2}')
netag=$(curl -fsSI "http://127.0.0.1:$nport$feed" | tr -d '\r' | awk 'tolower($1)=="etag:"{print $2}')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $tetag" "http://127.0.0.1:$tport$feed")" = 304 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $netag" "http://127.0.0.1:$nport$feed")" = 304 ]

# rate NAME URL [HEADER]: runs wrk and prints requests/s (non-2xx/3xx fail).
rate() {
  local out
  if [ -n "${3:-}" ]; then
    out=$(wrk -t"$threads" -c"$conns" -d"$duration" -H "$3" "$2")
  else
    out=$(wrk -t"$threads" -c"$conns" -d"$duration" "$2")
  fi
  if grep -q "Non-2xx or 3xx" <<<"$out"; then echo "bench: $1 had errors:" >&2; echo "$out" >&2; exit 1; fi
  awk '/^Requests\/sec:/{print $2}' <<<"$out"
}

echo "feed: $feed, $bytes bytes, 50 entries; wrk -t$threads -c$conns -d$duration on loopback"
# Pairs run back to back, so that both sides of a ratio see the same load.
t200=$(rate "tributary 200" "http://127.0.0.1:$tport$feed")
n200=$(rate "nginx 200" "http://127.0.0.1:$nport$feed")
t304=$(rate "tributary 304" "http://127.0.0.1:$tport$feed" "If-None-Match: $tetag")
n304=$(rate "nginx 304" "http://127.0.0.1:$nport$feed" "If-None-Match: $netag")
printf '%-16s %12s\n' "case" "requests/s"
printf '%-16s %12s\n' "tributary 200" "$t200" "tributary 304" "$t304" "nginx 200" "$n200" "nginx 304" "$n304"
awk -v t="$t200" -v n="$n200" 'BEGIN{printf "ratio 200 tributary/nginx: %.2f (target >= 0.50)\n", t/n}'
awk -v t="$t304" -v n="$n304" 'BEGIN{printf "ratio 304 tributary/nginx: %.2f\n", t/n}'
