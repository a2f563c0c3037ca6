#!/usr/bin/env bash
# Start one `ttfa run` per machine, all in one load group, writing to one PostgreSQL store;
# then one report merges them. Each machine needs ttfa built (make build) and the endpoint's
# key in its environment; every duration is measured on the machine that made the request, so
# the machines' clocks need not agree.
#
# Usage: HOSTS="load-1 load-2 load-3" TTFA_DATABASE_URL=postgresql://ttfa:…@db:5432/ttfa \
#          examples/load/runners-over-ssh.sh
set -euo pipefail
group=${GROUP:-load-$(date -u +%Y%m%dT%H%M%SZ)}
: "${HOSTS:?list the machines in HOSTS}"
: "${TTFA_DATABASE_URL:?the shared PostgreSQL store}"
for host in $HOSTS; do
  # The database URL travels in the environment, never on a command line others can read.
  ssh "$host" "cd ttfa && TTFA_DATABASE_URL='$TTFA_DATABASE_URL' .build/release/ttfa run \
      --transport websocket --ws-url 'wss://api.example.com/v1/realtime' --ws-header 'Authorization: Bearer \$OPENAI_API_KEY' \
      --rate 20/s --duration 10m --group '$group' --quiet" &
done
wait  # exit code 3 from a runner means some of its trials failed; they are stored all the same
.build/release/ttfa report --group "$group" --format html --out "$group.html"
.build/release/ttfa report --group "$group"
