package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// parses checks that args (a command line as a deploy file writes it) names
// a nocagent command whose flags all exist.
func parses(t *testing.T, where string, args []string) {
	t.Helper()
	root := newRoot(io.Discard, io.Discard)
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: %q is no nocagent command: %v", where, args, err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: %q: %v", where, args, err)
	}
}

// The deploy files start commands and mount files this repository has:
// a renamed flag or a moved file breaks them here, not on a user's host.
func TestDeployFiles(t *testing.T) {
	root := "../.."
	var compose struct {
		Services map[string]struct {
			Build   string   `yaml:"build"`
			Command []string `yaml:"command"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	b, err := os.ReadFile(filepath.Join(root, "deploy/compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	agent, ok := compose.Services["nocagent"]
	if !ok || agent.Build == "" {
		t.Fatal("deploy/compose.yaml: no nocagent service built from the repository")
	}
	parses(t, "compose nocagent command", agent.Command)
	for name, s := range compose.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, ".") {
				continue // a named volume
			}
			if _, err := os.Stat(filepath.Join(root, "deploy", src)); err != nil {
				t.Errorf("compose service %s mounts %s: %v", name, src, err)
			}
		}
	}

	unit, err := os.ReadFile(filepath.Join(root, "deploy/nocagent.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^Exec(?:Start|StartPre)=/usr/local/bin/nocagent (.+)$`).FindAllStringSubmatch(string(unit), -1) {
		parses(t, "nocagent.service", strings.Fields(m[1]))
	}
	if !strings.Contains(string(unit), "ExecReload=/bin/kill -HUP $MAINPID") {
		t.Error("nocagent.service: reload is SIGHUP")
	}

	docker, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	mod, _ := os.ReadFile(filepath.Join(root, "go.mod"))
	goVer := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if goVer == nil || !strings.Contains(string(docker), "FROM golang:"+string(goVer[1])) {
		t.Errorf("Dockerfile builds with another Go than go.mod's %s", goVer)
	}
	if !strings.Contains(string(docker), "USER nonroot") || !strings.Contains(string(docker), "distroless/static") {
		t.Error("Dockerfile: want a distroless static image running as non-root")
	}
	cmdLine := regexp.MustCompile(`(?m)^CMD \[(.+)\]$`).FindStringSubmatch(string(docker))
	if cmdLine == nil {
		t.Fatal("Dockerfile: no CMD")
	}
	var args []string
	for _, a := range strings.Split(cmdLine[1], ",") {
		args = append(args, strings.Trim(strings.TrimSpace(a), `"`))
	}
	parses(t, "Dockerfile CMD", args)
}
