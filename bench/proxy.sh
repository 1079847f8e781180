#!/usr/bin/env bash
# bench/proxy.sh: requests/s and p99 latency through four paths to one
# fixed-response upstream (nginx-light, `return 200`), all on 127.0.0.1:
#   direct        wrk -> upstream
#   h2o           wrk -> Debian's h2o 2.2.5 binary, plain proxy.reverse.url
#   nginx         wrk -> nginx as a reverse proxy (keepalive 64)
#   recap         wrk -> recap proxy, recording every call to a capture file
#   trusting      the same with --trust-upstream: no relay checking the upstream's
#                 responses (proxy/guard.h), what that relay costs
# then the ratios recap / h2o (target >= 0.90) and recap / trusting. Every server runs one worker.
# The box has 2 cores shared by wrk, the proxy and the upstream: read
# differences under ~15% as noise. Rounds alternate the order.
#
# Usage: bench/proxy.sh [seconds per run, default 10] [rounds, default 3]
# Writes the table to bench/results/proxy-<date>.txt as well.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
ROUNDS=${2:-3}
CONNS=${BENCH_CONNS:-32}
RECAP=${RECAP_BIN:-build/recap}
work=$(mktemp -d /tmp/recap-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UP=$(free_port); H2O=$(free_port); NGX=$(free_port); RCP=$(free_port); CTL=$(free_port)
TRP=$(free_port); TCTL=$(free_port)

body='{"id":1,"name":"bench","status":"ok","n":[1,2,3]}'
cat > "$work/upstream.conf" <<CONF
worker_processes 1;
pid $work/upstream.pid;
error_log $work/upstream.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$UP;
    location / { default_type application/json; return 200 '$body'; }
  }
}
CONF
cat > "$work/nginx-rp.conf" <<CONF
worker_processes 1;
pid $work/nginx-rp.pid;
error_log $work/nginx-rp.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream up { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
cat > "$work/h2o.conf" <<CONF
user: nobody
num-threads: 1
error-log: $work/h2o.err
listen:
  host: 127.0.0.1
  port: $H2O
hosts:
  default:
    paths:
      /:
        proxy.reverse.url: http://127.0.0.1:$UP/
CONF
chmod 755 "$work"

nginx -c "$work/upstream.conf" -p "$work" -g 'daemon off;' & pids+=($!)
nginx -c "$work/nginx-rp.conf" -p "$work" -g 'daemon off;' & pids+=($!)
h2o -c "$work/h2o.conf" >/dev/null 2>&1 & pids+=($!)
"$RECAP" proxy --upstream "http://127.0.0.1:$UP" --listen "127.0.0.1:$RCP" --control-listen "127.0.0.1:$CTL" \
  --capture "$work/capture.jsonl" --log-level warn & pids+=($!)
"$RECAP" proxy --upstream "http://127.0.0.1:$UP" --listen "127.0.0.1:$TRP" --control-listen "127.0.0.1:$TCTL" \
  --capture "$work/trusting.jsonl" --log-level warn --trust-upstream & pids+=($!)
for port in $UP $NGX $H2O $RCP $TRP; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

# wrk output -> "req/s p99_ms"
measure() {
  wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "http://127.0.0.1:$1/bench" | awk '
    /Requests\/sec/ {rps=$2}
    $1=="99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; p99=v}
    END {printf "%.0f %.3f\n", rps, p99}'
}

declare -A RPS P99
names=(direct h2o nginx recap trusting)
declare -A PORT=([direct]=$UP [h2o]=$H2O [nginx]=$NGX [recap]=$RCP [trusting]=$TRP)
for r in $(seq "$ROUNDS"); do
  order=("${names[@]}")
  (( r % 2 == 0 )) && order=(trusting recap nginx h2o direct)
  for n in "${order[@]}"; do
    read -r rps p99 < <(measure "${PORT[$n]}")
    RPS[$n]+="$rps "; P99[$n]+="$p99 "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
out="bench/results/proxy-$(date -u +%Y%m%d-%H%M%S).txt"
{
  echo "bench/proxy.sh: wrk -t1 -c$CONNS, ${DUR}s x $ROUNDS rounds, GET /bench, ${#body}-byte JSON from nginx-light"
  echo "machine: $(nproc) cores, $(uname -r); $(date -u +%Y-%m-%dT%H:%M:%SZ); recap $("$RECAP" version | cut -d' ' -f2)"
  printf "%-9s %12s %12s   %s\n" path "req/s (med)" "p99 ms (med)" "runs req/s | p99 ms"
  for n in "${names[@]}"; do
    printf "%-9s %12.0f %12.3f   %s| %s\n" "$n" "$(echo "${RPS[$n]}" | median)" "$(echo "${P99[$n]}" | median)" \
      "${RPS[$n]}" "${P99[$n]}"
  done
  rec=$(echo "${RPS[recap]}" | median); h2o=$(echo "${RPS[h2o]}" | median)
  trusting=$(echo "${RPS[trusting]}" | median)
  awk -v a="$rec" -v b="$h2o" 'BEGIN {printf "ratio recap / h2o (req/s): %.3f  (target >= 0.90)\n", a/b}'
  awk -v a="$rec" -v b="$trusting" -v c="$h2o" \
    'BEGIN {printf "ratio recap / recap --trust-upstream (req/s): %.3f  (the upstream relay); trusting / h2o: %.3f\n", a/b, b/c}'
  echo "records written by recap: $(wc -l < "$work/capture.jsonl") lines ($(du -h "$work/capture.jsonl" | cut -f1))"
} | tee "$out"
echo "written to $out"
