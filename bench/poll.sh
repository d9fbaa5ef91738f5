#!/usr/bin/env bash
# Poll benchmark: nocagent's collector against Prometheus' snmp_exporter on
# the same simulated 48-port switches (collector/snmpsim, in a process of
# its own). See bench/README.md for what is measured and how.
#
# Usage: bench/poll.sh [--devices N] [--duration SECONDS] [-- polldriver flags...]
# The last line of output is:
#   poll-bench: devices=N nocagent_cpu_s_per_1k=X snmp_exporter_cpu_s_per_1k=Y ratio=R varbinds_per_cpu_s=V rss_kib_per_device=K missed=M
set -euo pipefail

usage() { sed -n '5p' "$0" | sed 's/^# //' >&2; exit 2; }

devices=500
duration=120
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--devices) devices=${2:?--devices needs a number}; shift 2 ;;
	--devices=*) devices=${1#*=}; shift ;;
	--duration) duration=${2:?--duration needs seconds}; shift 2 ;;
	--duration=*) duration=${1#*=}; shift ;;
	--) shift; extra=("$@"); break ;;
	-h | --help) usage ;;
	*) echo "poll.sh: unknown argument $1" >&2; usage ;;
	esac
done
case "$devices$duration" in *[!0-9]*) echo "poll.sh: --devices and --duration take whole numbers" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.."

if ! command -v prometheus-snmp-exporter >/dev/null 2>&1; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "poll.sh: installing prometheus-snmp-exporter with apt" >&2
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq prometheus-snmp-exporter >&2
fi
if ! command -v go >/dev/null 2>&1; then
	PATH=/usr/local/go/bin:$PATH
fi

# One UDP socket per simulated device, plus the poller's own.
need=$((devices * 2 + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
	ulimit -n "$need" 2>/dev/null || echo "poll.sh: could not raise open files to $need; large runs may fail" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# gosnmp_nodebug compiles gosnmp's debug logging out (it boxes every OID
# into an interface even with no logger): how a release should be built.
go build -tags gosnmp_nodebug -o "$work/polldriver" ./bench/polldriver

"$work/polldriver" run -devices "$devices" -duration "${duration}s" \
	-exporter "$(command -v prometheus-snmp-exporter)" -workdir "$work" "${extra[@]}"
