#!/usr/bin/env bash
# Sets everything up and runs a real demo on the embedded SQLite default: a handful of jobs,
# some succeed, one fails its retries into the dead letter queue, workers drain the queue.
source "$(dirname "${BASH_SOURCE[0]}")/dev-env.sh"
demo_dir=$(mktemp -d)
export QUEUECTL_DB="$demo_dir/queue.db"   # a fresh queue, so the demo never touches yours
cd "$demo_dir"
# Each command is shown as it could be typed again: words with spaces or quotes in quotes.
quote() {
    if [[ $1 =~ ^[A-Za-z0-9_./=:@%+,-]+$ ]]; then
        printf '%s' "$1"
    else
        printf "'%s'" "${1//\'/\'\\\'\'}"
    fi
}
step() {
    local line='$' word
    for word in "$@"; do line+=" $(quote "$word")"; done
    printf '\n\033[1m%s\033[0m\n' "$line"
    "$@"
}

step queuectl enqueue '{"id":"job1","command":"echo hello","max_retries":3}'
step queuectl enqueue --command 'sleep 0.5 && echo slept' --id nap
step queuectl enqueue '{"id":"flaky","command":"echo trying; exit 3","max_retries":2}'
step queuectl enqueue --command 'no_such_program --help' --id typo --max-retries 0
printf '{"id":"sum-%d","command":"seq %d | awk '"'"'{s+=$1} END {print s}'"'"'"}\n' 1 10 2 20 3 30 > jobs.jsonl
step queuectl enqueue --file jobs.jsonl
step queuectl add --id words printf '%s\n' "it's one argument" two
step queuectl status
step queuectl worker start --count 2 --burst -v
step queuectl status
step queuectl list
step queuectl dlq list
step queuectl show flaky
step queuectl dlq retry typo
step queuectl list --state pending
printf '\nThe demo queue is %s; remove it with: rm -r %s\n' "$QUEUECTL_DB" "$demo_dir"
