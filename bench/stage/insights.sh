#!/usr/bin/env bash
# CloudWatch Logs Insights queries for a Gota stage: Lambda cold/warm duration percentiles,
# init duration, memory, and the API's own per-route latency. Prints them; with --run (and the
# aws CLI) runs them and prints the results.
#
#   bench/stage/insights.sh                              # print every query
#   bench/stage/insights.sh --query a --text-logs        # the AWS demo's form (text log format)
#   bench/stage/insights.sh --run --stack Gota-dev --since 30
#   bench/stage/insights.sh --run --log-group NAME --since 30 --run-id 1a2b3c4d --query d
#
# The stack's function logs in Lambda's JSON log format (infra/lib/api.ts: loggingFormat JSON),
# so the platform report is a JSON event {"type":"platform.report","record":{"metrics":{…}}}
# and the text-format fields the demos use (@type = "REPORT", @duration, @initDuration) are
# never set. --text-logs prints the text-format queries for functions that log text.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: insights.sh [--query a|b|c|d|all] [--text-logs] [--run-id ID]
                   [--run (--log-group NAME | --stack STACK) [--since MINUTES] [--region REGION]
                          [--timeout SECONDS] [--poll SECONDS]]

  --query      which query: a cold/warm Lambda duration, b init duration (cold starts),
               c memory, d API latency per route from the function's own log lines (all)
  --text-logs  queries for a function whose log format is Text (the AWS demos' REPORT lines)
  --run-id ID  restrict (d) to one load.py run (its X-Request-Id prefix gota-load-ID-)
  --run        run the queries with `aws logs start-query` and print the results
  --log-group  the function's log group (see README: LoggingConfig.LogGroup)
  --stack      find the function's log group in this CloudFormation stack instead (Gota-dev)
  --since      minutes back from now to query (60)
  --region     AWS region (default: the aws CLI's)
  --timeout    give up waiting for a query after this many seconds (300)
  --poll       seconds between get-query-results calls (1)
EOF
}

which_query=all
text_logs=0
run=0
log_group=
stack=
since=60
region=
run_id=
timeout=300
poll=1

die() { echo "insights.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --query) which_query=${2:?--query needs a value}; shift 2 ;;
    --text-logs) text_logs=1; shift ;;
    --run) run=1; shift ;;
    --log-group) log_group=${2:?--log-group needs a value}; shift 2 ;;
    --stack) stack=${2:?--stack needs a value}; shift 2 ;;
    --since) since=${2:?--since needs a value}; shift 2 ;;
    --region) region=${2:?--region needs a value}; shift 2 ;;
    --run-id) run_id=${2:?--run-id needs a value}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
    --poll) poll=${2:?--poll needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

case "$which_query" in a|b|c|d|all) ;; *) die "--query: one of a, b, c, d, all" ;; esac
[[ "$since" =~ ^[1-9][0-9]*$ ]] || die "--since: a whole number of minutes"
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || die "--timeout: a whole number of seconds"
[[ "$poll" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--poll: a number of seconds"
# The run id goes into a query string: letters, digits, '.', '_', '-' only.
[ -z "$run_id" ] || [[ "$run_id" =~ ^[A-Za-z0-9._-]{1,40}$ ]] || die "--run-id: 1-40 of A-Z a-z 0-9 . _ -"

# --- the queries -----------------------------------------------------------------------------

# (a) Lambda duration as a caller waits for it: init (cold starts only) + handler duration,
# split cold/warm. The same numbers as the AWS serverless demos' query.
query_a() {
  if [ "$text_logs" = 1 ]; then
    cat <<'EOF'
filter @type = "REPORT"
| fields greatest(@initDuration, 0) + @duration as duration, ispresent(@initDuration) as coldStart
| stats count(*) as count, pct(duration, 50) as p50, pct(duration, 90) as p90, pct(duration, 99) as p99, max(duration) as max by coldStart
EOF
  else
    cat <<'EOF'
filter type = "platform.report"
| fields greatest(record.metrics.initDurationMs, 0) + record.metrics.durationMs as duration, ispresent(record.metrics.initDurationMs) as coldStart
| stats count(*) as count, pct(duration, 50) as p50, pct(duration, 90) as p90, pct(duration, 99) as p99, max(duration) as max by coldStart
EOF
  fi
}

# (b) Init duration of the cold starts alone (the runtime and the binary's start-up).
query_b() {
  if [ "$text_logs" = 1 ]; then
    cat <<'EOF'
filter @type = "REPORT" and ispresent(@initDuration)
| stats count(*) as coldStarts, pct(@initDuration, 50) as p50, pct(@initDuration, 90) as p90, pct(@initDuration, 99) as p99, max(@initDuration) as max
EOF
  else
    cat <<'EOF'
filter type = "platform.report" and ispresent(record.metrics.initDurationMs)
| stats count(*) as coldStarts, pct(record.metrics.initDurationMs, 50) as p50, pct(record.metrics.initDurationMs, 90) as p90, pct(record.metrics.initDurationMs, 99) as p99, max(record.metrics.initDurationMs) as max
EOF
  fi
}

# (c) Memory: configured size and the most any execution environment used.
query_c() {
  if [ "$text_logs" = 1 ]; then
    # Logs Insights keeps @memorySize and @maxMemoryUsed of text REPORT lines in bytes.
    cat <<'EOF'
filter @type = "REPORT"
| stats count(*) as invocations, max(@memorySize / 1000 / 1000) as memorySizeMB, max(@maxMemoryUsed / 1000 / 1000) as maxMemoryUsedMB, avg(@maxMemoryUsed / 1000 / 1000) as avgMemoryUsedMB
EOF
  else
    cat <<'EOF'
filter type = "platform.report"
| stats count(*) as invocations, max(record.metrics.memorySizeMB) as memorySizeMB, max(record.metrics.maxMemoryUsedMB) as maxMemoryUsedMB, avg(record.metrics.maxMemoryUsedMB) as avgMemoryUsedMB
EOF
  fi
}

# (d) The API's own latency per route, from the line core/src/http/mod.rs logs for every
# response. tracing-subscriber's JSON formatter (core/src/telemetry.rs: flatten_event) puts the
# event's fields at the top level and the request span's fields under "span":
#   {"level":"INFO","message":"response","status":201,"latency_ms":4.89,
#    "span":{"method":"POST","route":"/recipes","path":"/recipes","request_id":"…","client_request_id":"…","name":"request"},…}
# `route` is the matched route template (`/recipes/{id}`), so each route is one row.
# The same in either log format: the binary writes these lines itself.
query_d() {
  echo 'filter message = "response" and ispresent(latency_ms) and span.route like /^\/recipes/'
  if [ -n "$run_id" ]; then
    echo "| filter span.client_request_id like \"gota-load-$run_id-\""
  fi
  cat <<'EOF'
| fields span.method as method, span.route as route, latency_ms as latency
| stats count(*) as count, pct(latency, 50) as p50, pct(latency, 90) as p90, pct(latency, 99) as p99, max(latency) as max by method, route
| sort count desc
EOF
}

title() {
  case "$1" in
    a) echo "(a) Lambda duration (init + handler), cold vs warm, ms" ;;
    b) echo "(b) Init duration of cold starts, ms" ;;
    c) echo "(c) Memory size and max memory used, MB" ;;
    d) echo "(d) API latency per route from the function's own log lines, ms${run_id:+ (run $run_id)}" ;;
  esac
}

if [ "$which_query" = all ]; then selected=(a b c d); else selected=("$which_query"); fi

# --- print only ------------------------------------------------------------------------------

if [ "$run" = 0 ]; then
  for q in "${selected[@]}"; do
    echo "# $(title "$q")"
    "query_$q"
    echo
  done
  exit 0
fi

# --- run -------------------------------------------------------------------------------------

if [ -z "$log_group" ] && [ -z "$stack" ]; then die "--run needs --log-group NAME or --stack STACK"; fi
command -v aws >/dev/null 2>&1 || die "--run needs the aws CLI on PATH (or paste the printed queries into the console)"
command -v python3 >/dev/null 2>&1 || die "--run needs python3 to read the aws CLI's JSON"

aws_() {
  if [ -n "$region" ]; then aws --region "$region" --output json "$@"; else aws --output json "$@"; fi
}

if [ -z "$log_group" ]; then
  # The function's log group is the stack's AWS::Logs::LogGroup whose logical id says FunctionLogs.
  log_group=$(aws_ cloudformation describe-stack-resources --stack-name "$stack" \
    | python3 -c '
import json, sys
found = [r["PhysicalResourceId"] for r in json.load(sys.stdin)["StackResources"]
         if r["ResourceType"] == "AWS::Logs::LogGroup" and "FunctionLogs" in r["LogicalResourceId"]]
print(found[0] if len(found) == 1 else "")
')
  [ -n "$log_group" ] || die "no single FunctionLogs log group in stack $stack: pass --log-group"
fi

end_time=$(date +%s)
start_time=$((end_time - since * 60))
echo "log group $log_group, last $since min ($(date -u -d "@$start_time" +%FT%TZ 2>/dev/null || echo "$start_time") to now)"
echo

status=0
for q in "${selected[@]}"; do
  echo "# $(title "$q")"
  query_string=$("query_$q")
  query_id=$(aws_ logs start-query --log-group-name "$log_group" \
    --start-time "$start_time" --end-time "$end_time" --query-string "$query_string" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["queryId"])')
  waited=0
  while :; do
    results=$(aws_ logs get-query-results --query-id "$query_id")
    state=$(printf '%s' "$results" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])')
    case "$state" in
      Complete) break ;;
      Failed|Cancelled|Timeout|Unknown) echo "query $query_id ended $state" >&2; status=1; break ;;
    esac
    if python3 -c "import sys; sys.exit(0 if $waited >= $timeout else 1)"; then
      echo "query $query_id still $state after ${timeout}s; stopping it" >&2
      aws_ logs stop-query --query-id "$query_id" >/dev/null 2>&1 || true
      status=1
      break
    fi
    sleep "$poll"
    waited=$(python3 -c "print($waited + $poll)")
  done
  if [ "$state" = Complete ]; then
    printf '%s' "$results" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
rows = [{c["field"]: c["value"] for c in row if not c["field"].startswith("@ptr")} for row in doc["results"]]
if not rows:
    print("(no matching log events: is the window right, and did the function run?)")
else:
    cols = []
    for row in rows:
        cols += [k for k in row if k not in cols]
    def cell(v):
        try:
            f = float(v)
        except (TypeError, ValueError):
            return "" if v is None else str(v)
        return str(int(f)) if f.is_integer() else f"{f:.2f}"
    table = [cols] + [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(cols))]
    for line in table:
        print("  ".join(v.rjust(w) for v, w in zip(line, widths)))
stats = doc.get("statistics") or {}
if stats:
    matched = int(stats.get("recordsMatched", 0))
    scanned = int(stats.get("recordsScanned", 0))
    print(f"({matched} records matched, {scanned} scanned)")
'
  fi
  echo
done
exit "$status"
