package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/collector/oracle"
	"github.com/nocagent/nocagent/collector/snmpsim"
)

func newProfilesCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profiles",
		Short: "Work with vendor profiles",
	}
	cmd.AddCommand(newProfilesTestCmd(stdout))
	return cmd
}

func newProfilesTestCmd(stdout io.Writer) *cobra.Command {
	var oracleFile, dir string
	var asJSON, failsOnly bool
	cmd := &cobra.Command{
		Use:   "test RECORDING.snmprec...",
		Short: "Serve recordings with the built-in simulator, poll them and show what each field read, from where, and whether it matches LibreNMS",
		Long: `Serves each .snmprec recording with the built-in SNMP simulator on
loopback, polls it once as the agent would, and prints per field what was
read and from which MIB or profile. With an oracle (LibreNMS's
tests/data/NAME.json, given with --oracle or found at ../data/NAME.json
beside the recording) each field also says whether it matches.

--profiles-dir lays a directory of profile files over the built-in ones,
so a profile can be tried without rebuilding.`,
		Example: `  nocagent profiles test ../shared/testdata/librenms-wide/snmpsim/vrp*.snmprec
  nocagent profiles test my-switch.snmprec --oracle my-switch.json --profiles-dir ./profiles`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if oracleFile != "" && len(args) > 1 {
				return fmt.Errorf("--oracle goes with one recording, got %d", len(args))
			}
			profiles, err := collector.LoadProfiles(dir)
			if err != nil {
				return err
			}
			sim := snmpsim.New(snmpsim.Options{})
			defer sim.Close()
			pass, scored := map[string]int{}, map[string]int{}
			var results []*oracle.Result
			failed := false
			for _, rec := range args {
				js := oracleFile
				if js == "" {
					js = oracle.Oracle(rec)
				}
				r, err := oracle.Score(cmd.Context(), sim, rec, js, profiles)
				if err != nil {
					fmt.Fprintf(stdout, "%s: %v\n", rec, err)
					failed = true
					continue
				}
				for _, c := range r.Checks {
					if c.Scored {
						scored[c.Field]++
						if c.Pass {
							pass[c.Field]++
						}
					}
				}
				if asJSON {
					results = append(results, r)
					continue
				}
				printProfileTest(stdout, r, failsOnly)
			}
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(results)
			}
			if len(args) > 1 {
				var b strings.Builder
				for _, f := range oracle.Fields {
					if scored[f] > 0 {
						fmt.Fprintf(&b, "  %s %d/%d", f, pass[f], scored[f])
					}
				}
				fmt.Fprintf(stdout, "TOTAL %d recordings:%s\n", len(args), b.String())
			}
			if failed {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&oracleFile, "oracle", "", "LibreNMS JSON of the recording (default: ../data/NAME.json beside it)")
	f.StringVar(&dir, "profiles-dir", "", "directory of profile YAML files laid over the built-in ones")
	f.BoolVar(&asJSON, "json", false, "print snapshots and checks as JSON")
	f.BoolVar(&failsOnly, "fails", false, "print only fields that do not match")
	return cmd
}

func printProfileTest(w io.Writer, r *oracle.Result, failsOnly bool) {
	s := r.Snapshot
	fmt.Fprintf(w, "%s  profile=%s vendor=%s os=%s librenms_os=%s sysObjectID=%s\n",
		strings.TrimSuffix(filepath.Base(r.Name), ".snmprec"), s.Profile, s.Vendor, s.OS, r.OS, s.System.ObjectID)
	got := map[string]string{
		"serial": s.Serial, "model": s.Model,
		"interfaces": fmt.Sprintf("%d interfaces", len(s.Interfaces)),
		"cpu":        cpuText(s.CPU),
		"memory":     memText(s.Memory),
		"neighbors":  fmt.Sprintf("%d neighbours", len(s.Neighbors)),
	}
	for _, f := range oracle.Fields {
		c := r.Check(f)
		verdict := "   "
		switch {
		case r.Checks == nil:
		case !c.Scored:
			verdict = " - "
		case c.Pass:
			verdict = "ok "
		default:
			verdict = "NO "
		}
		if failsOnly && (c.Pass || !c.Scored) {
			continue
		}
		g := got[f]
		if c.Got != "" {
			g = c.Got
		}
		line := fmt.Sprintf("  %s %-11s %s", verdict, f, g)
		if src := s.Sources[f]; src != "" {
			line += "  [" + src + "]"
		}
		if c.Scored && !c.Pass {
			line += "  want " + c.Want
		}
		fmt.Fprintln(w, line)
	}
	for _, m := range s.Modules {
		if m.Status != collector.ModuleOK {
			fmt.Fprintf(w, "      module %-14s %s %s\n", m.Module, m.Status, m.Reason)
		}
	}
}

func cpuText(cpus []collector.CPU) string {
	parts := make([]string, 0, len(cpus))
	for _, c := range cpus {
		parts = append(parts, fmt.Sprintf("%s=%.1f", c.Name, c.Percent))
	}
	return strings.Join(parts, ", ")
}

func memText(mems []collector.Memory) string {
	parts := make([]string, 0, len(mems))
	for _, m := range mems {
		parts = append(parts, fmt.Sprintf("%s(%s) %d/%d %.1f%%", m.Name, m.Class, m.UsedBytes, m.TotalBytes, m.Percent))
	}
	return strings.Join(parts, ", ")
}
