package snmpsim

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// BenchmarkBulkWalk walks the whole ios_2960x recording over loopback UDP
// with gosnmp, as a poller would, and reports varbinds per second.
func BenchmarkBulkWalk(b *testing.B) {
	path := recordingPath(b, "ios_2960x")
	sim := New(Options{})
	defer sim.Close()
	info, err := sim.AddRecording(context.Background(), path, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	c := newClient(b, info, "ios_2960x", gosnmp.Version2c, 2*time.Second)
	c.MaxRepetitions = 50
	total := 0
	b.ResetTimer()
	for b.Loop() {
		for _, root := range []string{".1.0", ".1.3"} {
			vbs, err := c.BulkWalkAll(root)
			if err != nil {
				b.Fatal(err)
			}
			total += len(vbs)
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "varbinds/s")
}

// BenchmarkHandleGetBulk measures the agent's own work per GETBULK (decode,
// lookup, encode), without the network or the client.
func BenchmarkHandleGetBulk(b *testing.B) {
	sim := New(Options{})
	defer sim.Close()
	info, err := sim.AddRecording(context.Background(), recordingPath(b, "ios_2960x"), "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sim.mu.Lock()
	a := sim.devices[info.Name].agent
	sim.mu.Unlock()
	req := &gosnmp.SnmpPacket{
		Version: gosnmp.Version2c, Community: "ios_2960x", PDUType: gosnmp.GetBulkRequest, RequestID: 1,
		MaxRepetitions: 50, Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.2.2.1", Type: gosnmp.Null}},
	}
	pkt, err := req.MarshalMsg()
	if err != nil {
		b.Fatal(err)
	}
	w := &worker{}
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	b.ReportAllocs()
	for b.Loop() {
		if a.handle(w, pkt, from) == nil {
			b.Fatal("no response")
		}
	}
	b.ReportMetric(float64(b.N*50)/b.Elapsed().Seconds(), "varbinds/s")
}
