package influx

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An agent restart during an outage: the second exporter, on the same
// spool, delivers what the first could not, once.
func TestSpoolSurvivesRestart(t *testing.T) {
	f := newFakeInflux(t)
	f.setStatus(func(int) int { return http.StatusServiceUnavailable })
	dir := t.TempDir()
	base := time.Unix(1700000000, 0)

	r1 := start(t, testConfig(f.srv.URL, dir))
	lines := writeCycles(r1.e, "r1", base, 0, 5)
	eventually(t, 5*time.Second, "a failed attempt", func() bool {
		return metric(t, r1.e, "nocagent_influx_write_errors_total", "kind", ErrKindServer) >= 1
	})
	lines = append(lines, writeCycles(r1.e, "r1", base, 5, 2)...) // pending at shutdown
	r1.stop()

	f.setStatus(nil)
	r2 := start(t, testConfig(f.srv.URL, dir))
	lines = append(lines, writeCycles(r2.e, "r1", base, 7, 2)...)
	drained(t, "replay", r2.e, f, len(lines))
	r2.stop()
	assertAllOnce(t, f, lines)

	// A third start finds nothing left to send.
	r3 := start(t, testConfig(f.srv.URL, dir))
	if p, _ := r3.e.Backlog(); p != 0 {
		t.Errorf("backlog %d after everything was delivered", p)
	}
	r3.stop()
	if n, _ := f.received(); n != len(lines) {
		t.Errorf("server holds %d lines after a third start, want %d", n, len(lines))
	}
}

// A crash mid-append leaves a torn record: it is cut off and the batches
// before it are still delivered.
func TestSpoolTruncatesTornTail(t *testing.T) {
	f := newFakeInflux(t)
	f.setStatus(func(int) int { return http.StatusServiceUnavailable })
	dir := t.TempDir()
	r1 := start(t, testConfig(f.srv.URL, dir))
	lines := writeCycles(r1.e, "r1", time.Unix(1700000000, 0), 0, 3)
	eventually(t, 5*time.Second, "spooled", func() bool { p, _ := r1.e.Backlog(); return p == len(lines) })
	r1.stop()

	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segExt))
	if len(segs) == 0 {
		t.Fatal("no segment written")
	}
	last := segs[len(segs)-1]
	before, _ := os.Stat(last)
	torn := header(999, 2, []byte("cpu,device=x usage_percent=1 1\ncpu,device=x usage_percent=2 2\n"))
	fh, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(torn + "cpu,device=x usage") // the crash
	fh.Close()

	f.setStatus(nil)
	r2 := start(t, testConfig(f.srv.URL, dir))
	if after, _ := os.Stat(last); after.Size() != before.Size() {
		t.Errorf("segment is %d bytes after recovery, want %d (torn record cut off)", after.Size(), before.Size())
	}
	drained(t, "replay", r2.e, f, len(lines))
	r2.stop()
	assertAllOnce(t, f, lines)
	if !strings.Contains(r2.logs.String(), "truncating damaged segment tail") {
		t.Errorf("truncation not logged:\n%s", r2.logs)
	}
}

// When the spool is full the oldest data goes, counted; the newest stays.
func TestSpoolFullDropsOldest(t *testing.T) {
	f := newFakeInflux(t)
	f.setStatus(func(int) int { return http.StatusServiceUnavailable })
	cfg := testConfig(f.srv.URL, t.TempDir())
	cfg.SpoolMaxBytes = 16 << 10
	cfg.BatchSize = 8 // one snapshot per batch
	r := start(t, cfg)
	perSnap := len(Encode(testSnap("r1", time.Unix(0, 0), 0), testLabels))
	var lines []string
	for i := range 40 { // about 80 KiB of line protocol
		lines = append(lines, writeCycles(r.e, "r1", time.Unix(1700000000, 0), i, 1)...)
	}
	var dropped float64
	eventually(t, 5*time.Second, "every point spooled or dropped", func() bool {
		p, _ := r.e.Backlog()
		dropped = metric(t, r.e, "nocagent_influx_dropped_points_total", "reason", DropSpoolFull)
		return p+int(dropped) == len(lines) && pendingLen(r.e) == 0
	})
	spool := metric(t, r.e, "nocagent_influx_spool_bytes")
	if dropped == 0 || int(dropped)%perSnap != 0 {
		t.Fatalf("dropped{spool_full} = %v, want a positive multiple of %d", dropped, perSnap)
	}
	if spool > float64(cfg.SpoolMaxBytes) {
		t.Errorf("spool %v bytes, over its %d limit", spool, cfg.SpoolMaxBytes)
	}
	if !strings.Contains(r.logs.String(), "spool full, dropped oldest segment") {
		t.Errorf("drop not logged:\n%s", r.logs)
	}

	f.setStatus(nil)
	kept := lines[int(dropped):]
	drained(t, "delivery of the rest", r.e, f, len(kept))
	r.stop()
	// Exactly the oldest points are missing.
	assertAllOnce(t, f, kept)
	for _, ln := range lines[:int(dropped)] {
		if f.count(ln) != 0 {
			t.Fatalf("dropped line delivered: %s", ln)
		}
	}
	if w := metric(t, r.e, "nocagent_influx_points_written_total"); w+dropped != float64(len(lines)) {
		t.Errorf("written %v + dropped %v != %d written", w, dropped, len(lines))
	}
}

func pendingLen(e *Exporter) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.pending)
}

func TestParseHeader(t *testing.T) {
	payload := []byte("cpu,device=a usage_percent=1 1\n")
	b, err := parseHeader(header(42, 1, payload))
	if err != nil || b.seq != 42 || b.points != 1 || b.size != len(payload) {
		t.Fatalf("round trip: %+v, %v", b, err)
	}
	for _, bad := range []string{"", "# nocagent-batch seq=x\n", "cpu,device=a usage_percent=1 1\n", "# nocagent-batch seq=1 points=1 bytes=-3 crc32=00000000\n"} {
		if _, err := parseHeader(bad); err == nil {
			t.Errorf("parseHeader(%q) accepted", bad)
		}
	}
	// The spool is replayable line protocol: the header is a comment.
	if !strings.HasPrefix(header(1, 1, payload), "#") {
		t.Error("header is not a line-protocol comment")
	}
}
