#!/usr/bin/env bash
# A stand-in for kubectl, for TestKubernetesRunScript (tests/kubernetes_test.go).
# No cluster runs here, so the commands deploy/kubernetes/run.sh sends to one
# are answered from a state directory ($STANDIN_STATE), and applying the Job
# runs its pods as local processes, as a kubelet would run them: the
# container's command (sh for /busybox/sh) and args, $(JOB_COMPLETION_INDEX)
# expanded, each volume mount a directory of the pod, both output streams in
# one log. Commands that need no cluster (create --dry-run=client, label
# --local) go to the real kubectl ($REAL_KUBECTL). Every call is appended to
# $STANDIN_STATE/calls.
set -euo pipefail

real=${REAL_KUBECTL:?}
state=${STANDIN_STATE:?}
echo "$*" >>"$state/calls"

args=()
while (($# > 0)); do
	case $1 in
	--namespace) shift 2 ;;
	*) args+=("$1") && shift ;;
	esac
done
set -- "${args[@]}"

# jp FILE TEMPLATE: a field of a manifest, read by the real kubectl.
jp() { "$real" label --local -f "$1" standin=1 -o "jsonpath=$2"; }
gt() { "$real" label --local -f "$1" standin=1 -o "go-template=$2"; }

# run_job FILE NAME: run the Job's pods to their end.
run_job() {
	local file=$1 name=$2 n='' cm='' wrapper key line i
	local -a cargs=() mounts=()
	# One kubectl call for the one-line fields: "N n", "C configmap",
	# "M mountPath" lines, then "A arg" lines.
	while IFS= read -r line; do
		case $line in
		"N "*) n=${line#N } ;;
		"C "*) cm=${line#C } ;;
		"M "*) mounts+=("${line#M }") ;;
		"A "*) cargs+=("${line#A }") ;;
		esac
	done < <(gt "$file" '{{with .spec}}N {{.completions}}
{{with .template.spec}}{{range .volumes}}{{if .configMap}}C {{.configMap.name}}
{{end}}{{end}}{{with index .containers 0}}{{range .volumeMounts}}M {{.mountPath}}
{{end}}{{range .args}}A {{.}}
{{end}}{{end}}{{end}}{{end}}')
	wrapper=$(jp "$file" '{.spec.template.spec.containers[0].command[2]}')
	key=$(gt "$state/configmap-$cm.yaml" '{{range $k, $v := .data}}{{$k}}{{end}}')
	gt "$state/configmap-$cm.yaml" "{{index .data \"$key\"}}" >"$state/script"
	for ((i = 0; i < n; i++)); do
		local pod=$state/pods/$name-$i a m
		local -a pargs=()
		for m in "${mounts[@]}"; do mkdir -p "$pod$m"; done
		cp "$state/script" "$pod/scripts/$key"
		for a in "${cargs[@]}"; do
			a=${a//\$(JOB_COMPLETION_INDEX)/$i}
			for m in "${mounts[@]}"; do
				if [[ $a == "$m"/* ]]; then
					a=$pod$a
					break
				fi
			done
			pargs+=("$a")
		done
		(
			rc=0
			JOB_COMPLETION_INDEX=$i sh -c "${wrapper//\$(JOB_COMPLETION_INDEX)/$i}" amqpjs-pod "${pargs[@]}" >"$pod.log" 2>&1 || rc=$?
			echo "$rc" >"$pod.rc"
		) &
	done
	wait
	local status=Complete
	for ((i = 0; i < n; i++)); do
		[[ $(<"$state/pods/$name-$i.rc") == 0 ]] || status=Failed
	done
	echo "$status" >"$state/job-$name.status"
}

case "${1-} ${2-}" in
"create configmap" | "label --local") exec "$real" "$@" ;;
"get secret") echo "secret/$3" ;;
"apply -f")
	file=$3
	if [[ $file == - ]]; then
		file=$state/stdin.yaml
		cat >"$file"
	fi
	read -r kind name < <(jp "$file" '{.kind} {.metadata.name}{"\n"}')
	case $kind in
	ConfigMap)
		cp "$file" "$state/configmap-$name.yaml"
		date -u +%Y-%m-%dT%H:%M:%SZ >"$state/configmap-$name.created"
		;;
	Job) run_job "$file" "$name" ;;
	*) echo "kubectl stand-in: cannot apply a $kind" >&2 && exit 1 ;;
	esac
	echo "${kind,,}/$name created"
	;;
"get configmap") cat "$state/configmap-$3.created" ;;
"get job") printf '%s ' "$(<"$state/job-$3.status")" ;;
"get pods")
	# -l app.kubernetes.io/instance=NAME
	sel=${4#app.kubernetes.io/instance=}
	for f in "$state/pods/$sel"-*.log; do
		[[ -e $f ]] && basename "$f" .log
	done
	;;
"logs "*) cat "$state/pods/$2.log" ;;
"delete "*) echo "$2/$3 deleted" ;;
*)
	echo "kubectl stand-in: unexpected command: $*" >&2
	exit 1
	;;
esac
