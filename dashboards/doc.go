// Package dashboards holds the Grafana dashboards for nocagent's Prometheus
// metrics, the provisioning files that load them, and the tests that prove
// every panel query parses, names only metrics the agent serves, and returns
// data from a real Prometheus scraping a running agent.
//
// The dashboards are written in Go (defs.go) and rendered to the Grafana JSON
// model in json/. The JSON is committed so that Grafana users need nothing but
// the files; a test regenerates it in memory and fails on any difference.
// After changing defs.go run:
//
//	go generate ./dashboards
package dashboards

//go:generate go run ./gen -out json
