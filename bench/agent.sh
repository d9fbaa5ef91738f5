#!/usr/bin/env bash
# Whole-agent benchmark on real device recordings: `nocagent run` (every
# module, the default rules, metrics, the ticket store) polling recordings
# served by `nocagent simulate`, and snmp_exporter scraping the same
# recordings for ten interface columns, in the same run. See bench/README.md.
#
# Usage: bench/agent.sh [--duration SECONDS] [--interval DURATION] [-- polldriver agent flags...] [RECORDING...]
# Without recordings it runs twice: the Cisco 2960X (146 ports) alone, then
# the 40 development recordings. Each run prints one line:
#   agent-bench: recordings=N interval=1s nocagent_polls=P nocagent_cpu_ms_per_poll=X snmp_exporter_scrapes=S snmp_exporter_cpu_ms_per_scrape=Y wall=...
set -euo pipefail

duration=60
interval=1s
extra=()
recs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--duration) duration=${2:?--duration needs seconds}; shift 2 ;;
	--interval) interval=${2:?--interval needs a duration}; shift 2 ;;
	--) shift; while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do extra+=("$1" "$2"); shift 2; done ;;
	-h | --help) sed -n '7p' "$0" | sed 's/^# //' >&2; exit 2 ;;
	*) recs+=("$1"); shift ;;
	esac
done

cd "$(dirname "$0")/.."
testdata=${NOCAGENT_TESTDATA:-../shared/testdata/librenms}
if ! command -v prometheus-snmp-exporter >/dev/null 2>&1; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "agent.sh: installing prometheus-snmp-exporter with apt" >&2
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq prometheus-snmp-exporter >&2
fi
command -v go >/dev/null 2>&1 || PATH=/usr/local/go/bin:$PATH

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -tags gosnmp_nodebug -o "$work/nocagent" ./cmd/nocagent
go build -tags gosnmp_nodebug -o "$work/polldriver" ./bench/polldriver

bench() {
	"$work/polldriver" agent -nocagent "$work/nocagent" -exporter "$(command -v prometheus-snmp-exporter)" \
		-duration "${duration}s" -interval "$interval" "${extra[@]}" "$@"
}
if [ ${#recs[@]} -gt 0 ]; then
	bench "${recs[@]}"
else
	bench "$testdata/snmpsim/ios_2960x.snmprec"
	mapfile -t mix < <(ls "$testdata"/snmpsim/*.snmprec | grep -v @)
	bench "${mix[@]}"
fi
