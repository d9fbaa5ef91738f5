#!/usr/bin/env bash
# Runs every test of nocagent. On a fresh Debian machine it first installs,
# with apt, the real servers the tests start on loopback (net-snmp's snmpd
# and tools, Debian's snmpsim, Prometheus with promtool, VictoriaMetrics for the InfluxDB
# protocol, PostgreSQL, headless Chromium for rendered reports); Go modules come through the module proxy. Extra arguments go to `go test` (e.g. -run TestName).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v snmpd >/dev/null || need+=(snmpd)
command -v snmpget >/dev/null || need+=(snmp)
command -v snmpsimd >/dev/null || need+=(snmpsim) # a third-party agent serving the device recordings
command -v promtool >/dev/null || need+=(prometheus)
command -v victoria-metrics >/dev/null || need+=(victoria-metrics)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk) # Chinese reports render as boxes without it
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

go mod download
go vet ./...
exec go test -race -count=1 -timeout 20m "$@" ./...
