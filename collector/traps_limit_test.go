package collector

import (
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// One device's trap storm is cut to its rate; another device's traps pass.
func TestTrapRateLimit(t *testing.T) {
	r := &TrapReceiver{opts: TrapOptions{PerDevice: 20, Burst: 100}, limits: map[string]*rate.Limiter{}}
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	passed := 0
	for range 9000 {
		if r.allowLocked("storm-sw", t0) {
			passed++
		}
	}
	if passed != 100 {
		t.Errorf("a burst of 9000 at once: %d passed, want the burst of 100", passed)
	}
	if !r.allowLocked("quiet-sw", t0) {
		t.Error("another device's trap was dropped with the storm's")
	}
	passed = 0
	for i := range 100 {
		if r.allowLocked("storm-sw", t0.Add(time.Second+time.Duration(i)*time.Millisecond)) {
			passed++
		}
	}
	if passed < 20 || passed > 22 {
		t.Errorf("a second later: %d passed, want the rate of about 20", passed)
	}
}
