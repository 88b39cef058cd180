#!/usr/bin/env bash
# Start the local services the tests use (PostgreSQL, Redis, RabbitMQ) if they are not running.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 30); do port_open "$1" && return 0; sleep 1; done
  echo "service on port $1 did not come up" >&2; return 1
}

if ! port_open 5432; then
  echo "==> starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  wait_port 5432
fi
if ! port_open 6379; then
  echo "==> starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379
fi
if ! port_open 5672; then
  echo "==> starting RabbitMQ"
  rabbitmq-server -detached
  wait_port 5672
fi
exit 0
