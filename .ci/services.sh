#!/usr/bin/env bash
# Starts the services the service-backed suites use, when they are down. Safe to run repeatedly.
set -uo pipefail

up() { timeout 2 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null; }
wait_for() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do up "$port" && { echo "$name up on :$port"; return 0; }; sleep 0.5; done
  echo "WARNING: $name did not come up on :$port" >&2
  return 1
}

if ! up 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  wait_for 5432 PostgreSQL
fi
# Three more PostgreSQL servers for the sharded store (NATTER_PG_SHARD_URLS): separate clusters on 5433-5435,
# trust auth on 127.0.0.1, a `test` database, small shared_buffers. Created once (a few seconds), then only
# started when down. A fourth, `killable` on 5436 (NATTER_PG_KILLABLE_URL), belongs to the failure tests
# alone: they kill -9 it and restart it (tests/helpers/pg-server.ts), so no other suite running at the same
# time ever loses its database.
pg_version="$(ls /etc/postgresql | sort -V | tail -n1)"
for entry in 5433:shard1 5434:shard2 5435:shard3 5436:killable; do
  port="${entry%%:*}" cluster="${entry#*:}"
  if ! up "$port"; then
    if [ ! -d "/etc/postgresql/$pg_version/$cluster" ]; then
      echo "creating PostgreSQL cluster $pg_version/$cluster on :$port"
      pg_createcluster --quiet --port "$port" --start-conf=manual \
        -o shared_buffers=32MB -o max_connections=200 \
        "$pg_version" "$cluster" -- --auth-local=trust --auth-host=trust >/dev/null ||
        echo "WARNING: could not create PostgreSQL cluster $cluster" >&2
    fi
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$cluster" start || true
    wait_for "$port" "PostgreSQL $cluster"
  fi
  # The bench's cross-node scenario opens 8 nodes x 12 connections on the first shard server: a cluster
  # made with a lower limit (60, before 2026-12-06) refuses some of them ("too many clients").
  if [ "$(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc 'SHOW max_connections' 2>/dev/null || echo 200)" -lt 200 ]; then
    psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc 'ALTER SYSTEM SET max_connections = 200' &&
      pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$cluster" restart &&
      wait_for "$port" "PostgreSQL $cluster"
  fi
  up "$port" &&
    { psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 ||
      psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE test"; }
done
if ! up 6379; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  wait_for 6379 Redis
fi
if ! up 4222; then
  echo "starting NATS"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
  wait_for 4222 NATS
fi
if ! up 2181; then
  echo "starting ZooKeeper"
  if [ ! -x /usr/share/zookeeper/bin/zkServer.sh ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper; } >/dev/null 2>&1 \
      || echo "WARNING: could not install zookeeper" >&2
  fi
  mkdir -p /var/lib/zookeeper-ci/data /var/log/zookeeper
  printf '%s\n' 'tickTime=2000' 'dataDir=/var/lib/zookeeper-ci/data' 'clientPort=2181' \
    'clientPortAddress=127.0.0.1' 'admin.enableServer=false' >/var/lib/zookeeper-ci/zoo.cfg
  ZOO_LOG_DIR=/var/log/zookeeper SERVER_JVMFLAGS="-Xmx256m" \
    /usr/share/zookeeper/bin/zkServer.sh start /var/lib/zookeeper-ci/zoo.cfg >/dev/null 2>&1 || true
  wait_for 2181 ZooKeeper
fi
if ! command -v ffmpeg >/dev/null || ! command -v radosgw >/dev/null || ! command -v ceph-osd >/dev/null; then
  # ffmpeg: video poster frames in @natter/media. Ceph (mon, osd, radosgw): the S3 server @natter/blob-s3
  # is tested against (docs/decisions.md says why radosgw). About four minutes on a fresh machine.
  echo "installing ffmpeg and Ceph (mon, osd, radosgw)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg ceph-mon ceph-osd radosgw; } \
    >/dev/null 2>&1 || echo "WARNING: could not install ffmpeg/ceph" >&2
fi
ceph_full() { timeout 10 ceph -c "${NATTER_CEPH_DIR:-/var/lib/natter-ceph}/ceph.conf" health 2>/dev/null | grep -q full; }
if ! up 7480 || ceph_full; then
  echo "starting Ceph radosgw (S3)"
  bash "$(dirname "$0")/start-radosgw.sh" || echo "WARNING: radosgw setup failed" >&2
  wait_for 7480 radosgw
fi
echo "services ready"
