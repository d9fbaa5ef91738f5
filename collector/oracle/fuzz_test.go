package oracle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
)

// FuzzParse: any document gives a Dump or an error naming the file, and a
// Dump can always be compared with a snapshot.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "testdata", "librenms", "data", "a*.json"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"ports":{"discovery":[],"poller":"matches discovery"},"mempools":{"discovery":[]}}`))
	f.Add([]byte(`{"ports":{"poller":{"ports":[{"ifIndex":1,"ifInOctets":"123"}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse("fuzz.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "oracle fuzz.json") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		snap := &collector.Snapshot{Time: time.Unix(0, 0), CPU: []collector.CPU{{Percent: 5}}, Memory: []collector.Memory{{Class: "system", TotalBytes: 100, UsedBytes: 5, Percent: 5}}}
		if got := Compare(snap, d); len(got) != len(Fields) {
			t.Fatalf("%d checks, want %d", len(got), len(Fields))
		}
	})
}
