package collector

import "testing"

func TestErrorKind(t *testing.T) {
	tests := map[string]string{
		"no answer from 127.0.0.1:161 within 2s (check address, port, community/credentials and ACLs)":                 "timeout",
		`authentication failed on 10.0.0.1:161: check auth_protocol and auth_key of credential "core-v3"`:              "authentication",
		`no answer from 10.0.0.1:161 to encrypted requests although it answered SNMPv3 discovery: check priv_protocol`: "privacy",
		"interfaces: walk 1.3.6.1.2.1.2.2.1: agent loops: OID not increasing: X came after Y; column cut off there":    "loop",
		"entity+bgp: walk 1.3.6.1.2.1.47: too many varbinds: column 1.3.6.1.2.1.47.1.1.1.1.2 stopped at 100000":        "too_big",
		"127.0.0.1:9 refused the request (port unreachable: is an SNMP agent listening?)":                              "unreachable",
		"something else entirely": "other",
	}
	for msg, want := range tests {
		if got := ErrorKind(msg); got != want {
			t.Errorf("ErrorKind(%q) = %s, want %s", msg, got, want)
		}
	}
}
