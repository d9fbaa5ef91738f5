package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/inventory"
)

func newDiscoverCmd(stdout, stderr io.Writer) *cobra.Command {
	var (
		credName, configPath, outPath string
		opts                          collector.DiscoverOptions
		noProgress                    bool
	)
	cmd := &cobra.Command{
		Use:   "discover CIDR... --credential NAME --out FILE",
		Short: "Find SNMP devices in address ranges and add them to an inventory file",
		Long: `discover probes every address of the given ranges (CIDR prefixes or single
addresses) with one credential from the configuration, identifies what
answers (vendor, OS, model, serial) and guesses its role, then adds the new
devices to --out. Devices already in --out, by address or name, are kept as
they are; running it twice adds nothing. --out may be the configuration file
itself; a new file gets a devices-only list to paste in.

Only loopback ranges (127.0.0.0/8, ::1) are scanned unless
--allow-non-loopback is given: scanning a network you do not run can trip
its intrusion detection. At most 65536 addresses (a /16) per run.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Refuse a bad range before reading anything.
			if _, err := collector.DiscoverTargets(args, opts.AllowNonLoopback, opts.MaxAddresses); err != nil {
				return &exitError{code: 2, err: err}
			}
			cfg, err := inventory.Load(configPath)
			if err != nil {
				fmt.Fprintln(stderr, err)
				return &exitError{code: 2, err: fmt.Errorf("%s is not valid", configPath)}
			}
			cred, ok := cfg.Credential(credName)
			if !ok {
				names := make([]string, 0, len(cfg.Credentials))
				for _, c := range cfg.Credentials {
					names = append(names, c.Name)
				}
				return &exitError{code: 2, err: fmt.Errorf("credential %q is not in %s (defined: %s)", credName, configPath, strings.Join(names, ", "))}
			}
			if !noProgress {
				opts.Progress = progressBar(stderr)
			}
			start := time.Now()
			found, err := collector.Discover(cmd.Context(), args, cred, opts)
			if err != nil {
				return err
			}
			added, err := mergeInto(outPath, found, credName)
			if err != nil {
				return err
			}
			for _, f := range found {
				state := "known"
				if i := slices.IndexFunc(added, func(d inventory.Device) bool { return d.Address == f.Address }); i >= 0 {
					state = "added " + added[i].Name
				}
				fmt.Fprintf(stdout, "%-22s %-9s %-10s %-20s %-16s %-8s %s\n", f.Address, orDash(f.Vendor), orDash(f.OS), orDash(f.Model), orDash(f.Serial), f.Role, state)
			}
			fmt.Fprintf(stdout, "%d devices answered, %d added to %s (%s)\n", len(found), len(added), outPath, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&credName, "credential", "", "credential (from --config) to probe with")
	f.StringVarP(&configPath, "config", "c", "nocagent.yaml", "configuration file holding the credential")
	f.StringVar(&outPath, "out", "", "inventory file to write or merge the devices into")
	f.Uint16Var(&opts.Port, "port", collector.DefaultPort, "SNMP port to probe")
	f.IntVar(&opts.Workers, "workers", 64, "addresses probed at once")
	f.DurationVar(&opts.Timeout, "timeout", time.Second, "how long one address gets to answer")
	f.IntVar(&opts.Retries, "retries", 0, "re-sends to an address that does not answer")
	f.BoolVar(&opts.AllowNonLoopback, "allow-non-loopback", false, "scan ranges outside 127.0.0.0/8 and ::1")
	f.BoolVar(&noProgress, "no-progress", false, "do not draw the progress bar")
	cmd.MarkFlagRequired("credential")
	cmd.MarkFlagRequired("out")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// mergeInto merges found into the file at path and replaces it atomically.
// A file that loaded as a configuration must still load afterwards.
func mergeInto(path string, found []collector.Discovered, credential string) ([]inventory.Device, error) {
	data, err := os.ReadFile(path)
	mode := fs.FileMode(0o644)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	default:
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
	}
	out, added, err := collector.MergeInventory(data, found, credential)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(added) == 0 && data != nil {
		return nil, nil
	}
	if data != nil {
		if _, err := inventory.Parse(path, data); err == nil {
			if _, err := inventory.Parse(path, out); err != nil {
				return nil, fmt.Errorf("%s: the merged file would not load, left unchanged: %w", path, err)
			}
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return added, nil
}

// progressBar draws "\r[=====     ] 123/256" on w, redrawn only when the
// bar or the count's thousands change, and ends the line when done.
func progressBar(w io.Writer) func(done, total int) {
	const width = 30
	last := -1
	return func(done, total int) {
		filled := width * done / max(total, 1)
		key := filled*1_000_000 + done/1000
		if key == last && done != total {
			return
		}
		last = key
		fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}
