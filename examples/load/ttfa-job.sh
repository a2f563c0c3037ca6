#!/bin/sh
# One runner of a load group: `ttfa run` with the arguments it was given (the Job's args, an
# ssh command line), then the runner's verdict.
#
# Exit 3 — measured, but some trials failed or were invalid — is what load does to an endpoint,
# not a broken runner: the trials are stored, and `ttfa report --group NAME` judges the group as
# a whole afterwards. So it becomes 0 here (and is said on stderr); 1 (a threshold), 2 (bad
# input: nothing was measured) and 130 stay failures.
#
# Secrets stay in the environment: pass them as `$NAME` inside the arguments (Kubernetes expands
# only `$(NAME)`, and "$@" below expands nothing), and ttfa reads the variable itself — so no
# key ever appears in a process's argv, where `ps` and /proc show it.
ttfa run "$@"
status=$?
if [ "$status" -eq 3 ]; then
  echo "ttfa-job: some trials failed or were invalid (exit 3); they are stored — judge the group with ttfa report --group" >&2
  exit 0
fi
exit "$status"
