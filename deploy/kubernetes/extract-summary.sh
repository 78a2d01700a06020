#!/usr/bin/env bash
# deploy/kubernetes/extract-summary.sh DIR < POD_LOG
#
# Takes the summary export out of an amqpjs pod's log (the lines between
#   === amqpjs summary-export begin instance=I exit=C ===
#   === amqpjs summary-export end ===
# that the Job's pods print at the end, see job.yaml) and writes it to
# DIR/summary-I.json. Whatever the script printed before is ignored; if the
# log has several blocks (it should not), the last complete one wins.
# Exits 1, writing nothing, when the log has no complete block.
set -euo pipefail

[[ $# -eq 1 && -d $1 ]] || {
	echo "usage: extract-summary.sh DIR < POD_LOG" >&2
	exit 2
}
dir=$1
tmp=$(mktemp "$dir/.summary.XXXXXX")
trap 'rm -f "$tmp"' EXIT

# awk writes the block to $tmp and prints the block's instance number.
instance=$(awk -v out="$tmp" '
	/^=== amqpjs summary-export begin instance=[0-9]+ exit=[0-9]+ ===$/ {
		inblock = 1
		n = 0
		split($5, kv, "=")
		cur = kv[2]
		next
	}
	# (A summary export without a final newline leaves the marker at the
	# end of its last line.)
	/=== amqpjs summary-export end ===$/ && (inblock || /^=== amqpjs summary-export end ===$/) {
		pre = $0
		sub(/=== amqpjs summary-export end ===$/, "", pre)
		if (inblock && pre != "") buf[++n] = pre
		if (inblock) {
			done = cur
			last = n
			for (i = 1; i <= n; i++) keep[i] = buf[i]
		}
		inblock = 0
		next
	}
	inblock { buf[++n] = $0 }
	END {
		if (done == "") exit 1
		for (i = 1; i <= last; i++) print keep[i] > out
		close(out)
		print done
	}
') || {
	echo "extract-summary.sh: no complete summary-export block in the log" >&2
	exit 1
}
mv "$tmp" "$dir/summary-$instance.json"
trap - EXIT
