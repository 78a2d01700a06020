#!/usr/bin/env bash
# deploy/kubernetes/run.sh — run one amqpjs scenario split over N pods of an
# Indexed Job, then merge their summaries into one (docs/distributed.md).
#
#   deploy/kubernetes/run.sh [options] SCRIPT [-- RUN_ARGS...]
#
# Steps: the script becomes a ConfigMap (kubectl create configmap
# --dry-run=client); job.yaml (beside this file) is rendered for N and a
# start instant and applied; the script waits for the Job to end, takes each
# pod's summary export from `kubectl logs` (between the marker lines the pod
# prints), and runs `amqpjs merge` on them here. Its exit code is merge's:
# 0 all thresholds passed, 99 one failed, 2 the summaries do not belong
# together; 1 when the run failed before the merge (a pod failed, a summary
# is missing, the Job did not end in time), 2 for bad usage.
#
# Needs: kubectl (its current context and namespace, or --namespace), an
# image built from deploy/Dockerfile that the cluster can pull, a Secret
# with the broker's URL under the key AMQP_URL:
#   kubectl create secret generic amqpjs-broker --from-literal=AMQP_URL=amqp://user:pass@rabbitmq:5672/
# and amqpjs on this machine for the merge ($AMQPJS, or amqpjs on PATH).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
	cat <<'EOF'
Usage: deploy/kubernetes/run.sh [options] SCRIPT [-- RUN_ARGS...]

Runs SCRIPT (an amqpjs scenario) as N pods of a Kubernetes Indexed Job, pod I
running `amqpjs run --instance I/N --start-at T`, then merges their summaries
with `amqpjs merge`. RUN_ARGS are added to every pod's `amqpjs run`.

Options:
  -n, --instances N    pods, each running 1/N of every scenario (default 3)
      --image IMAGE    the amqpjs image (default $AMQPJS_IMAGE, else amqpjs:latest)
      --secret NAME    Secret with the broker URL under key AMQP_URL (default amqpjs-broker)
      --start-in SECS  start the load this many seconds after the ConfigMap was
                       created, by the API server's clock (default 60)
      --start-at TIME  start the load at TIME (RFC 3339); overrides --start-in
      --name NAME      the Job's name (default amqpjs-YYYYMMDD-HHMMSS, UTC)
      --namespace NS   the namespace (default: kubectl's current one)
      --out DIR        where the summaries and the merged one go (default ./NAME)
      --timeout SECS   how long to wait for the Job to end (default 3600)
      --keep           leave the Job and the ConfigMap in the cluster
      --render         print the manifests (ConfigMap and Job) and exit; needs
                       no cluster
  -h, --help           this help

Environment: KUBECTL (default kubectl), AMQPJS (the amqpjs binary for the
merge; default amqpjs on PATH).

Exit codes: amqpjs merge's (0 thresholds passed, 99 one failed, 2 the
summaries do not belong together); 1 the run failed before the merge; 2 usage.
EOF
}

say() { echo "run.sh: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}
usage_error() {
	say "$*"
	say "see deploy/kubernetes/run.sh --help"
	exit 2
}

instances=3
image=${AMQPJS_IMAGE:-amqpjs:latest}
secret='amqpjs-broker'
start_in=60
start_at=
name=
namespace=
outdir=
timeout=3600
keep=0
render=0
script=
run_args=()

while (($# > 0)); do
	case $1 in
	-n | --instances) instances=${2-}; shift 2 || usage_error "$1 needs a value" ;;
	--image) image=${2-}; shift 2 || usage_error "$1 needs a value" ;;
	--secret) secret=${2-}; shift 2 || usage_error "$1 needs a value" ;;
	--start-in) start_in=${2-}; shift 2 || usage_error "$1 needs a value" ;;
	--start-at) start_at=${2-}; shift 2 || usage_error "$1 needs a value" ;;
	--name) name=${2-}; shift 2 || usage_error "$1 needs a value" ;;
	--namespace) namespace=${2-}; shift 2 || usage_error "$1 needs a value" ;;
	--out) outdir=${2-}; shift 2 || usage_error "$1 needs a value" ;;
	--timeout) timeout=${2-}; shift 2 || usage_error "$1 needs a value" ;;
	--keep) keep=1; shift ;;
	--render) render=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; run_args=("$@"); break ;;
	-*) usage_error "unknown option $1" ;;
	*)
		[[ -z $script ]] || usage_error "one script only (got $script and $1)"
		script=$1
		shift
		;;
	esac
done

[[ -n $script ]] || usage_error "no script given"
[[ -f $script ]] || usage_error "$script: no such file"
[[ $instances =~ ^[1-9][0-9]*$ ]] && ((instances <= 1000)) || usage_error "--instances must be an integer from 1 to 1000 (got '$instances')"
[[ $start_in =~ ^[0-9]+$ ]] || usage_error "--start-in must be whole seconds (got '$start_in')"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout must be whole seconds (got '$timeout')"
[[ -n $image ]] || usage_error "--image is empty"
key=$(basename -- "$script")
[[ $key =~ ^[-._a-zA-Z0-9]+$ ]] || usage_error "the script's file name '$key' is not a valid ConfigMap key (letters, digits, '-', '_', '.')"
if [[ -z $name ]]; then
	name=amqpjs-$(date -u +%Y%m%d-%H%M%S)
fi
# A DNS label, with room for the ConfigMap's suffix and the pods' ones.
[[ $name =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] && ((${#name} <= 48)) ||
	usage_error "--name must be lower-case letters, digits and '-', at most 48 characters (got '$name')"
[[ -n $outdir ]] || outdir=./$name

# KUBECTL may carry flags ("kubectl --context staging"): split on spaces.
read -r -a kubectl <<<"${KUBECTL:-kubectl}"
[[ -z $namespace ]] || kubectl+=(--namespace "$namespace")

# YAML double-quoted scalar of $1.
yaml_quote() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# The ConfigMap holding the script, by kubectl's own generator (no cluster
# needed).
render_configmap() {
	"${kubectl[@]}" create configmap "$name-script" --from-file="$key=$script" --dry-run=client -o yaml |
		"${kubectl[@]}" label --local -f - -o yaml app.kubernetes.io/name=amqpjs "app.kubernetes.io/instance=$name" |
		sed '/^  creationTimestamp: null$/d'
}

# job.yaml with its __WORDS__ replaced (header comment left out).
render_job() {
	local at=$1 tpl extra=''
	tpl=$(sed -n '/^apiVersion:/,$p' "$here/job.yaml")
	for a in ${run_args[@]+"${run_args[@]}"}; do
		extra+=$'\n'"            - $(yaml_quote "$a")"
	done
	tpl=${tpl//"            # run.sh puts the arguments given after \`--\` here."/"            # arguments given to run.sh after --:$extra"}
	tpl=${tpl//__NAME__/$name}
	tpl=${tpl//__INSTANCES__/$instances}
	tpl=${tpl//__START_AT__/$(yaml_quote "$at")}
	tpl=${tpl//__IMAGE__/$(yaml_quote "$image")}
	tpl=${tpl//__SECRET__/$secret}
	tpl=${tpl//__SCRIPT__/$key}
	if [[ $tpl == *__[A-Z_]*__* ]]; then
		die "job.yaml has a placeholder run.sh does not know: $(grep -o '__[A-Z_]*__' <<<"$tpl" | head -1)"
	fi
	printf '# Rendered by deploy/kubernetes/run.sh from deploy/kubernetes/job.yaml\n%s\n' "$tpl"
}

# Seconds since the epoch of an RFC 3339 UTC time (GNU date, then BSD date).
to_epoch() {
	date -u -d "$1" +%s 2>/dev/null || date -u -j -f '%Y-%m-%dT%H:%M:%SZ' "$1" +%s
}
# RFC 3339 UTC time of seconds since the epoch.
from_epoch() {
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$1" +%Y-%m-%dT%H:%M:%SZ
}

if ((render)); then
	at=$start_at
	[[ -n $at ]] || at=$(from_epoch $(($(date -u +%s) + start_in)))
	render_configmap
	echo ---
	render_job "$at"
	exit 0
fi

amqpjs=${AMQPJS:-amqpjs}
command -v "$amqpjs" >/dev/null 2>&1 || die "amqpjs is needed here for the merge: put it on PATH or set AMQPJS=/path/to/amqpjs"
"${kubectl[@]}" get secret "$secret" -o name >/dev/null ||
	die "no Secret '$secret' with the broker's URL; make it with: kubectl create secret generic $secret --from-literal=AMQP_URL=amqp://user:pass@rabbitmq:5672/"
mkdir -p "$outdir"

cleanup() {
	if ((keep)); then
		say "kept job/$name and configmap/$name-script (--keep)"
	else
		"${kubectl[@]}" delete job "$name" --ignore-not-found --wait=false >/dev/null 2>&1 || true
		"${kubectl[@]}" delete configmap "$name-script" --ignore-not-found >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

render_configmap | "${kubectl[@]}" apply -f - >/dev/null
if [[ -z $start_at ]]; then
	# The API server's clock, not this machine's: the pods' nodes follow the
	# cluster's time, a laptop's clock may not.
	created=$("${kubectl[@]}" get configmap "$name-script" -o jsonpath='{.metadata.creationTimestamp}')
	start_at=$(from_epoch $(($(to_epoch "$created") + start_in)))
fi
render_job "$start_at" >"$outdir/job.yaml"
"${kubectl[@]}" apply -f "$outdir/job.yaml" >/dev/null
say "job/$name: $instances pods, load starts at $start_at; waiting (up to ${timeout}s)"

# Wait for Complete or Failed (kubectl wait takes one condition: poll both).
deadline=$((SECONDS + timeout))
state=
while :; do
	# A failed poll (the API server briefly unreachable) is retried.
	state=$("${kubectl[@]}" get job "$name" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}') || state=
	case " $state " in
	*" Complete "* | *" Failed "*) break ;;
	esac
	((SECONDS < deadline)) || die "job/$name did not end within ${timeout}s (kubectl get pods -l app.kubernetes.io/instance=$name)"
	sleep 5
done

# Each pod's log ends with its summary export between marker lines.
failed=0
pods=$("${kubectl[@]}" get pods -l "app.kubernetes.io/instance=$name" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{end}')
for pod in $pods; do
	log=$outdir/$pod.log
	"${kubectl[@]}" logs "$pod" -c amqpjs >"$log" 2>&1 || true
	if ! "$here/extract-summary.sh" "$outdir" <"$log"; then
		failed=1
		say "pod $pod left no summary export; the end of its log ($log):"
		tail -n 20 "$log" | sed 's/^/    /' >&2
	fi
done
missing=()
for ((i = 0; i < instances; i++)); do
	[[ -s $outdir/summary-$i.json ]] || missing+=("$i")
done
if [[ " $state " == *" Failed "* ]]; then
	say "job/$name failed (a pod ended with an error; see the logs in $outdir)"
	failed=1
fi
((${#missing[@]} == 0)) || {
	say "no summary from instance(s) ${missing[*]} of $instances"
	failed=1
}
((failed == 0)) || exit 1

summaries=()
for ((i = 0; i < instances; i++)); do
	summaries+=("$outdir/summary-$i.json")
done
say "merging ${#summaries[@]} summaries into $outdir/merged.json"
set +e
"$amqpjs" merge --summary-export "$outdir/merged.json" "${summaries[@]}"
rc=$?
set -e
exit "$rc"
