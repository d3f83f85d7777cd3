#!/usr/bin/env bash
# A one-node Ceph cluster for the S3 tests: a monitor, one OSD on memstore (in memory)
# and radosgw on 127.0.0.1:7480, with one S3 user. Throwaway by design: it is rebuilt from nothing
# whenever radosgw is down or the OSD is full (memstore keeps nothing across restarts anyway). About
# 20 s; ~150 MB of RAM plus what is stored (4 GiB at most; deleted data is reclaimed within seconds).
# Environment: NATTER_CEPH_DIR (default /var/lib/natter-ceph), and the S3 credentials the tests use,
# NATTER_S3_ACCESS_KEY / NATTER_S3_SECRET_KEY (defaults natter / natter-secret).
set -euo pipefail
D=${NATTER_CEPH_DIR:-/var/lib/natter-ceph}
ACCESS=${NATTER_S3_ACCESS_KEY:-natter}
SECRET=${NATTER_S3_SECRET_KEY:-natter-secret}

# Stop daemons of an earlier run of this script (by their pid files only), then start from scratch.
pids=()
for pidfile in "$D"/run/*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null && pids+=("$pid"); fi
done
for _ in $(seq 1 40); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  sleep 0.25
done
rm -rf "$D"
mkdir -p "$D/mon" "$D/osd" "$D/run" "$D/log"
FSID=$(cat /proc/sys/kernel/random/uuid)
cat >"$D/ceph.conf" <<EOC
[global]
fsid = $FSID
mon host = v1:127.0.0.1:6789
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = memstore
memstore device bytes = 4294967296
osd crush chooseleaf type = 0
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
[mon.a]
mon data = $D/mon
[osd.0]
osd data = $D/osd
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:7480
rgw data = $D/rgw
# Reclaim the space of deleted objects and aborted uploads within seconds (the default waits two hours,
# and a memstore OSD that fills up blocks every write).
rgw gc obj min wait = 0
rgw gc processor period = 5
rgw gc processor max time = 5
EOC
C=(-c "$D/ceph.conf")
monmaptool --create --add a 127.0.0.1:6789 --fsid "$FSID" "$D/monmap" >/dev/null
ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap"
ceph-mon "${C[@]}" -i a
ceph "${C[@]}" osd create >/dev/null
ceph-osd "${C[@]}" -i 0 --mkfs 2>/dev/null
ceph "${C[@]}" osd crush add osd.0 1 root=default host=localhost >/dev/null 2>&1
ceph-osd "${C[@]}" -i 0 2>/dev/null
mkdir -p "$D/rgw"
radosgw "${C[@]}" -n client.rgw
radosgw-admin "${C[@]}" user create --uid=natter --display-name=natter \
  --access-key="$ACCESS" --secret-key="$SECRET" >/dev/null
