package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nocagent/nocagent/rules"
)

// newRulesCmd is "nocagent rules check|test".
func newRulesCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Validate rule files and run rule unit tests",
	}
	cmd.AddCommand(newRulesCheckCmd(stdout), newRulesTestCmd(stdout))
	return cmd
}

func newRulesCheckCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE...",
		Short: "Validate rule files: every error with its file and line",
		Long: `check loads each rule file as the agent would, together with the embedded
default pack, and prints every problem with file:line: YAML errors, unknown
fields, expressions that do not compile or name an unknown metric, bad
overrides and maintenance windows, and clear conditions that cannot work
(identical to the condition, contradictory, or clearing on the wrong side of
the fire threshold). It exits 1 when any file has a problem.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			sets := []*rules.RuleSet{rules.Default()}
			for _, path := range args {
				rs, err := rules.LoadFile(path)
				if err != nil {
					bad++
					fmt.Fprintln(stdout, err)
					continue
				}
				sets = append(sets, rs)
				fmt.Fprintf(stdout, "%s: ok (%d rules in %d groups, %d maintenance windows)\n",
					path, len(rs.Rules()), len(rs.Groups), len(rs.Maintenance))
			}
			if _, err := rules.Merge(sets...); err != nil {
				bad++
				fmt.Fprintln(stdout, err)
			}
			if bad > 0 {
				return &exitError{code: 1, err: errors.New("rule files have errors")}
			}
			return nil
		},
	}
}

func newRulesTestCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "test FILE...",
		Short: "Run rule unit tests (input series over time, expected alerts at times)",
		Long: `test runs rule unit test files in the style of promtool test rules. A test
file names its rule files (default is the embedded pack), gives per device
series of values such as cpu[cpu0].percent: "50 95x3 85", events at times,
and the alerts expected to be firing at times. See rules/default_test.yaml
and the rules package documentation for the format. It exits 1 when a test
fails or a file cannot be run.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed, broken := 0, 0
			for _, path := range args {
				res, err := rules.RunTestFile(path)
				if err != nil {
					broken++
					fmt.Fprintln(stdout, err)
					continue
				}
				for _, r := range res {
					if len(r.Failures) == 0 {
						fmt.Fprintf(stdout, "PASS %s: %s\n", path, r.Name)
						continue
					}
					failed++
					fmt.Fprintf(stdout, "FAIL %s: %s\n  %s\n", path, r.Name, strings.Join(r.Failures, "\n  "))
				}
			}
			switch {
			case broken > 0:
				return &exitError{code: 1, err: fmt.Errorf("%d test files could not be run, %d tests failed", broken, failed)}
			case failed > 0:
				return &exitError{code: 1, err: fmt.Errorf("%d tests failed", failed)}
			}
			return nil
		},
	}
}
