#!/usr/bin/env bash
# Start one `ttfa run` per machine, all in one load group, writing to one PostgreSQL store;
# then one report merges them. Each machine needs ttfa installed (the release archive unpacked,
# or `make install`), with examples/load/ttfa-job.sh beside it as ttfa-job, and the endpoint's
# key in its environment (OPENAI_API_KEY); every duration is measured on the machine that made
# the request, so the machines' clocks need not agree.
#
# Usage: HOSTS="load-1 load-2 load-3" TTFA_DATABASE_URL=postgresql://ttfa:…@db:5432/ttfa \
#          examples/load/runners-over-ssh.sh
set -euo pipefail
group=${GROUP:-load-$(date -u +%Y%m%dT%H%M%SZ)}
: "${HOSTS:?list the machines in HOSTS}"
: "${TTFA_DATABASE_URL:?the shared PostgreSQL store}"
for host in $HOSTS; do
  # The database URL (it holds a password) travels on ssh's standard input, never on a command
  # line: neither this machine's ssh process nor the remote shell shows it in its argv. The
  # key's $OPENAI_API_KEY stays literal for ttfa to expand on the remote side. ttfa-job takes
  # a runner's exit 3 (some trials failed: they are stored) as done.
  printf '%s\n' "$TTFA_DATABASE_URL" | ssh "$host" 'read -r TTFA_DATABASE_URL && export TTFA_DATABASE_URL && exec ttfa-job \
      --transport websocket --ws-url "wss://api.example.com/v1/realtime" --header "Authorization: Bearer \$OPENAI_API_KEY" \
      --rate 20/s --duration 10m --group '"'$group'"' --label "$(hostname)" --quiet' &
done
status=0
for job in $(jobs -p); do wait "$job" || status=$?; done
[ "$status" -eq 0 ] || echo "a runner could not measure (exit $status); the others' trials are stored" >&2
ttfa report --group "$group" --format html --out "$group.html"
ttfa report --group "$group"
