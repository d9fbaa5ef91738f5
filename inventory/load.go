package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// maxFileSize keeps a mistaken path (a log, a disk image) from being read
// whole into memory; real inventories are far smaller.
const maxFileSize = 32 << 20

// Load reads, decodes and validates the configuration file at path, as Parse
// does. Problems in the file come back together as ValidationErrors, each
// naming the path as given, the line, the column and the field.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("inventory: read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("inventory: read %s: file is larger than %d bytes", path, maxFileSize)
	}
	return Parse(path, data)
}

// Parse decodes and validates a configuration held in memory. name is used in
// error messages and, unless empty, as the file the data came from: Config.Path
// becomes its absolute form and relative data_dir and rules paths are
// resolved against its directory, so they are absolute too.
//
// Decoding is strict: unknown keys, duplicate keys, wrong types and bad
// durations are errors. Defaults are applied after validation succeeds.
func Parse(name string, data []byte) (*Config, error) {
	r := &report{file: name, pos: map[string]position{}}
	root, err := parseYAML(data)
	if err != nil {
		at, msg := syntaxError(data, err)
		r.addAt(at, "", msg)
		return nil, r.result()
	}
	if root == nil {
		r.addAt(position{}, "", "the file is empty: want a YAML mapping of sections (agent, credentials, devices, ...)")
		return nil, r.result()
	}

	cfg := &Config{}
	if name != "" {
		// Absolute, so resolved paths do not depend on the working
		// directory and resolving one again changes nothing.
		abs, err := filepath.Abs(name)
		if err != nil {
			return nil, fmt.Errorf("inventory: %s: %w", name, err)
		}
		cfg.Path = abs
	}
	(&decoder{r: r}).decode(root, cfg)
	// Validate even when decoding failed, so one run reports everything;
	// the report keeps quiet about fields that failed to decode.
	cfg.validate(r)
	if err := r.result(); err != nil {
		return nil, err
	}
	cfg.applyDefaults(r.explicit)
	cfg.Agent.DataDir = cfg.ResolvePath(cfg.Agent.DataDir)
	for _, p := range []*string{&cfg.Agent.ProfilesDir, &cfg.Agent.TokensFile, &cfg.Agent.TLSCert, &cfg.Agent.TLSKey, &cfg.ServiceFile} {
		if *p != "" {
			*p = cfg.ResolvePath(*p)
		}
	}
	if cfg.Plugins != nil {
		if cfg.Plugins.Dir != "" {
			cfg.Plugins.Dir = cfg.ResolvePath(cfg.Plugins.Dir)
		}
		for k, v := range cfg.Plugins.ConfigFiles {
			cfg.Plugins.ConfigFiles[k] = cfg.ResolvePath(v)
		}
	}
	if cfg.Influx != nil && cfg.Influx.TokenFile != "" {
		cfg.Influx.TokenFile = cfg.ResolvePath(cfg.Influx.TokenFile)
	}
	for i, p := range cfg.Rules {
		cfg.Rules[i] = cfg.ResolvePath(p)
	}
	return cfg, nil
}

// parseYAML returns the single document's root node, nil for an empty file.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	// yaml.v3 has panicked on malformed input before; a config file is input
	// from outside, so a parser panic becomes an error, not a crash.
	defer func() {
		if p := recover(); p != nil {
			root, err = nil, fmt.Errorf("yaml: the parser failed on this input (%v)", p)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		return nil, fmt.Errorf("yaml: line %d: a second YAML document starts here; want exactly one", extra.Line)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		n := doc.Content[0]
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil, nil // only comments, "---" or "~"
		}
		return n, nil
	}
	return nil, nil
}

var yamlPrefix = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// syntaxError turns a YAML parse error into a FieldError at the line where
// the problem is. yaml.v3 reports the line where the enclosing construct
// began (for parser errors off by one, and for a bad indent deep inside the
// top-level mapping that can be line 1), so the message is kept but the line
// is found again: the parser is streaming, so the shortest run of leading
// lines that fails with the same message ends at the offending line.
func syntaxError(data []byte, err error) (position, string) {
	m := yamlPrefix.FindStringSubmatch(err.Error())
	msg := yamlPrefix.ReplaceAllString(err.Error(), "")
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	fails := func(lines int) bool {
		_, err := parseYAML(data[:ends[lines-1]])
		return err != nil && yamlPrefix.ReplaceAllString(err.Error(), "") == msg
	}
	n := len(ends)
	if !fails(n) {
		return position{}, "invalid YAML: " + msg
	}
	// The reported line starts the construct that failed, so the problem
	// is on it or after it (parser errors report it 0-based, hence -1).
	lo := 1
	if m != nil && m[1] != "" {
		reported, _ := strconv.Atoi(m[1])
		lo = min(max(reported-1, 1), n)
	}
	// Gallop forward from there, then bisect: the problem is usually near
	// the reported line and each try parses a prefix of the file.
	hi := lo
	for step := 1; !fails(hi); step *= 2 {
		lo = hi + 1
		hi = min(hi+step, n)
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return position{line: lo}, "invalid YAML: " + msg
}
