package collector

import "strings"

// errorKinds maps the wording of this package's poll errors (session.go's
// hints, walker.go's cut-offs) to a short kind for metrics. First match wins.
var errorKinds = []struct{ substr, kind string }{
	{"encrypted requests", "privacy"},
	{"decryption failed", "privacy"},
	{"no answer from", "timeout"},
	{"authentication failed", "authentication"},
	{"unknown user", "authentication"},
	{"security level refused", "authentication"},
	{"engine time or ID mismatch", "engine"},
	{"refused the request", "unreachable"},
	{"agent loops", "loop"},
	{"too many varbinds", "too_big"},
}

// ErrorKind classifies one Snapshot.Errors entry: timeout, authentication,
// privacy, engine, unreachable, loop, too_big or other.
func ErrorKind(msg string) string {
	for _, k := range errorKinds {
		if strings.Contains(msg, k.substr) {
			return k.kind
		}
	}
	return "other"
}
