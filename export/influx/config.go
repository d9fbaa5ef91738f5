package influx

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config configures an Exporter. The zero value of every field but URL,
// Org and Bucket has a default (see withDefaults).
type Config struct {
	URL    string // server base URL, e.g. http://127.0.0.1:8086
	Org    string
	Bucket string
	// Token is the API token. It is sent in the Authorization header and
	// nowhere else: never logged, never part of an error. Read it with
	// TokenFrom. Empty is allowed for servers without authentication
	// (VictoriaMetrics).
	Token string

	// BatchSize is the most points sent in one request (default 5000).
	BatchSize int
	// FlushInterval is how long a point may wait for a batch to fill
	// (default 10s).
	FlushInterval time.Duration
	// SpoolDir holds the on-disk spool. Empty means memory only: an agent
	// restart then loses what was not yet delivered.
	SpoolDir string
	// SpoolMaxBytes bounds the spool on disk (default 256 MiB); beyond it
	// the oldest data is dropped.
	SpoolMaxBytes int64
	// MemoryBuffer bounds the points held only in memory: written but not
	// yet in the spool, or all undelivered points when there is no spool
	// (default 100000). Beyond it the oldest are dropped.
	MemoryBuffer int

	// RetryMin and RetryMax bound the exponential backoff between failed
	// attempts (defaults 1s and 1m).
	RetryMin, RetryMax time.Duration
	// Timeout bounds one HTTP request (default 30s).
	Timeout time.Duration
}

const (
	defaultBatchSize     = 5000
	defaultFlushInterval = 10 * time.Second
	defaultSpoolMaxBytes = 256 << 20
	defaultMemoryBuffer  = 100000
	defaultRetryMin      = time.Second
	defaultRetryMax      = time.Minute
	defaultTimeout       = 30 * time.Second
)

func (c Config) withDefaults() Config {
	set := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.BatchSize <= 0 {
		c.BatchSize = defaultBatchSize
	}
	if c.SpoolMaxBytes <= 0 {
		c.SpoolMaxBytes = defaultSpoolMaxBytes
	}
	if c.MemoryBuffer <= 0 {
		c.MemoryBuffer = defaultMemoryBuffer
	}
	set(&c.FlushInterval, defaultFlushInterval)
	set(&c.RetryMin, defaultRetryMin)
	set(&c.RetryMax, defaultRetryMax)
	set(&c.Timeout, defaultTimeout)
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	return c
}

func (c Config) validate() error {
	if c.URL == "" {
		return errors.New("influx: url is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("influx: url %q: %w", redactURL(c.URL), err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("influx: url %q: want http(s)://host[:port]", redactURL(c.URL))
	}
	if c.Org == "" {
		return errors.New("influx: org is required")
	}
	if c.Bucket == "" {
		return errors.New("influx: bucket is required")
	}
	return nil
}

// redactURL hides a password in the URL's user info, should someone put one
// there.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// LogValue implements slog.LogValuer so that logging a Config never shows
// the token.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactURL(c.URL)),
		slog.String("org", c.Org),
		slog.String("bucket", c.Bucket),
		slog.Bool("token_set", c.Token != ""),
		slog.String("spool_dir", c.SpoolDir),
		slog.Int64("spool_max_bytes", c.SpoolMaxBytes),
		slog.Int("batch_size", c.BatchSize),
		slog.Duration("flush_interval", c.FlushInterval),
	)
}

// String keeps the token out of %v and %+v.
func (c Config) String() string {
	return fmt.Sprintf("influx{url=%s org=%s bucket=%s token_set=%t spool_dir=%s}",
		redactURL(c.URL), c.Org, c.Bucket, c.Token != "", c.SpoolDir)
}

// GoString keeps the token out of %#v.
func (c Config) GoString() string { return c.String() }

// TokenFrom reads the API token from file when it is set, else from the
// environment variable envVar. Surrounding white space (a trailing newline)
// is trimmed. Both empty gives "" and no error: a server without
// authentication. Errors name the file or variable, never the content.
func TokenFrom(file, envVar string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("influx token file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("influx token file %s: empty", file)
		}
		return tok, nil
	}
	if envVar != "" {
		tok := strings.TrimSpace(os.Getenv(envVar))
		if tok == "" {
			return "", fmt.Errorf("influx token: environment variable %s is unset or empty", envVar)
		}
		return tok, nil
	}
	return "", nil
}
