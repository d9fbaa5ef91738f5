package influx

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The spool is a directory of append-only segment files plus an ack file.
//
// A segment is named after the sequence number of its first batch
// (%020d.lp) and is a valid line-protocol file: each batch is a comment
// header line
//
//	# nocagent-batch seq=<n> points=<n> bytes=<payload bytes> crc32=<hex>
//
// followed by the batch's lines. An operator can replay a segment by hand
// with `curl --data-binary @file`, since line protocol ignores comments.
//
// The ack file holds the sequence number of the last batch the server
// accepted (or rejected for good): on start, batches up to it are skipped.
// A segment is deleted once every batch in it is acknowledged. A crash
// between the server accepting a batch and the ack file being written sends
// that batch once more; InfluxDB overwrites a point with the same series and
// timestamp, so the repeat changes nothing there.
type spool struct {
	dir    string
	max    int64 // bytes on disk
	segMax int64 // a segment is closed once it reaches this size
	log    *slog.Logger

	segs   []*segment // oldest first; the last one is active
	active *os.File   // append handle of segs[len(segs)-1], nil until the first append
	bytes  int64      // sum of segment sizes
}

type segment struct {
	path  string
	first uint64
	size  int64
	live  int // batches not yet acknowledged or dropped
}

const (
	segExt      = ".lp"
	ackFile     = "ack"
	headerMagic = "# nocagent-batch"
	// maxSegBytes caps a segment so that dropping the oldest one, when the
	// spool is full, does not throw away more than needed.
	maxSegBytes = 16 << 20
)

// openSpool creates dir if needed, truncates torn writes a crash left at the
// end of a segment, deletes fully acknowledged segments and returns the
// batches still to send, oldest first, and the next sequence number.
func openSpool(dir string, maxBytes int64, log *slog.Logger) (*spool, []*batch, uint64, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, 0, fmt.Errorf("influx spool: %w", err)
	}
	sp := &spool{dir: dir, max: maxBytes, segMax: min(max(maxBytes/8, 1), maxSegBytes), log: log}
	ack, err := sp.readAck()
	if err != nil {
		return nil, nil, 0, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("influx spool: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), segExt) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // zero-padded numbers sort as text

	next := ack + 1
	var pending []*batch
	for _, name := range names {
		first, err := strconv.ParseUint(strings.TrimSuffix(name, segExt), 10, 64)
		if err != nil {
			log.Warn("influx spool: ignoring unknown file", "file", filepath.Join(dir, name))
			continue
		}
		seg := &segment{path: filepath.Join(dir, name), first: first}
		bs, err := sp.scan(seg)
		if err != nil {
			return nil, nil, 0, err
		}
		for _, b := range bs {
			next = max(next, b.seq+1)
			if b.seq > ack {
				seg.live++
				pending = append(pending, b)
			}
		}
		if seg.live == 0 {
			if err := os.Remove(seg.path); err != nil {
				return nil, nil, 0, fmt.Errorf("influx spool: %w", err)
			}
			continue
		}
		sp.segs = append(sp.segs, seg)
		sp.bytes += seg.size
	}
	return sp, pending, next, nil
}

func (sp *spool) readAck() (uint64, error) {
	p := filepath.Join(sp.dir, ackFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("influx spool: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("influx spool: %s: %w", p, err)
	}
	return n, nil
}

// writeAck records that every batch up to seq is done with. Write to a
// temporary file, fsync, rename: a crash leaves the old or the new value.
func (sp *spool) writeAck(seq uint64) error {
	p := filepath.Join(sp.dir, ackFile)
	tmp := p + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("influx spool: %w", err)
	}
	_, err = f.WriteString(strconv.FormatUint(seq, 10) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		return fmt.Errorf("influx spool: write %s: %w", p, err)
	}
	return nil
}

// scan reads a segment's batch headers. A torn or corrupt record ends the
// segment: it is truncated there, and what followed is reported lost.
func (sp *spool) scan(seg *segment) ([]*batch, error) {
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("influx spool: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("influx spool: %w", err)
	}
	r := bufio.NewReader(f)
	var out []*batch
	var off int64
	for off < st.Size() {
		b, n, err := readRecord(r, off)
		if err != nil {
			sp.log.Warn("influx spool: truncating damaged segment tail",
				"file", seg.path, "offset", off, "lost_bytes", st.Size()-off, "err", err)
			if err := f.Truncate(off); err != nil {
				return nil, fmt.Errorf("influx spool: truncate %s: %w", seg.path, err)
			}
			break
		}
		b.seg = seg
		out = append(out, b)
		off += n
	}
	seg.size = off
	return out, nil
}

// readRecord reads one header and payload at offset off, checking the CRC.
func readRecord(r *bufio.Reader, off int64) (*batch, int64, error) {
	hdr, err := r.ReadString('\n')
	if err != nil {
		return nil, 0, fmt.Errorf("header: %w", err)
	}
	b, err := parseHeader(hdr)
	if err != nil {
		return nil, 0, err
	}
	payload := make([]byte, b.size)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, 0, fmt.Errorf("batch %d: %w", b.seq, err)
	}
	if crc32.ChecksumIEEE(payload) != b.crc {
		return nil, 0, fmt.Errorf("batch %d: checksum mismatch", b.seq)
	}
	b.off = off + int64(len(hdr))
	return b, int64(len(hdr)) + int64(b.size), nil
}

func header(seq uint64, points int, payload []byte) string {
	return fmt.Sprintf("%s seq=%d points=%d bytes=%d crc32=%08x\n",
		headerMagic, seq, points, len(payload), crc32.ChecksumIEEE(payload))
}

func parseHeader(h string) (*batch, error) {
	b := &batch{}
	_, err := fmt.Sscanf(h, headerMagic+" seq=%d points=%d bytes=%d crc32=%x\n", &b.seq, &b.points, &b.size, &b.crc)
	if err != nil || b.size < 0 || b.points < 0 {
		return nil, fmt.Errorf("bad batch header %q", strings.TrimSpace(h))
	}
	return b, nil
}

// append writes one batch to the active segment, starting a new segment
// when it is full, and fsyncs. On success b knows its segment and offset; on
// failure the segment is cut back to where it was, so nothing half-written
// is ever replayed.
func (sp *spool) append(b *batch) error {
	if sp.active == nil || sp.segs[len(sp.segs)-1].size >= sp.segMax {
		if err := sp.rotate(b.seq); err != nil {
			return err
		}
	}
	seg := sp.segs[len(sp.segs)-1]
	h := header(b.seq, b.points, b.data)
	_, err := sp.active.WriteString(h)
	if err == nil {
		_, err = sp.active.Write(b.data)
	}
	if err == nil {
		err = sp.active.Sync()
	}
	if err != nil {
		_ = sp.active.Truncate(seg.size)
		_ = sp.active.Close()
		sp.active = nil
		sp.removeIfDone(seg) // an empty new segment
		return fmt.Errorf("influx spool: write %s: %w", seg.path, err)
	}
	b.crc = crc32.ChecksumIEEE(b.data)
	b.seg, b.off = seg, seg.size+int64(len(h))
	n := int64(len(h) + len(b.data))
	seg.size += n
	sp.bytes += n
	seg.live++
	return nil
}

// rotate closes the active segment and starts a new one named after seq.
func (sp *spool) rotate(seq uint64) error {
	if sp.active != nil {
		if err := sp.active.Close(); err != nil {
			sp.log.Warn("influx spool: close segment", "err", err)
		}
		sp.active = nil
		sp.removeIfDone(sp.segs[len(sp.segs)-1])
	}
	seg := &segment{path: filepath.Join(sp.dir, fmt.Sprintf("%020d%s", seq, segExt)), first: seq}
	f, err := os.OpenFile(seg.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("influx spool: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("influx spool: %w", err)
	}
	// A leftover file of that name can only hold a batch whose write
	// failed and that was then kept in memory: drop its content.
	if st.Size() > 0 {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return fmt.Errorf("influx spool: %w", err)
		}
	}
	sp.active = f
	sp.segs = append(sp.segs, seg)
	return nil
}

// read returns a spooled batch's payload.
func (sp *spool) read(b *batch) ([]byte, error) {
	f, err := os.Open(b.seg.path)
	if err != nil {
		return nil, fmt.Errorf("influx spool: %w", err)
	}
	defer f.Close()
	buf := make([]byte, b.size)
	if _, err := f.ReadAt(buf, b.off); err != nil {
		return nil, fmt.Errorf("influx spool: read batch %d from %s: %w", b.seq, b.seg.path, err)
	}
	if crc32.ChecksumIEEE(buf) != b.crc {
		return nil, fmt.Errorf("influx spool: batch %d in %s: checksum mismatch", b.seq, b.seg.path)
	}
	return buf, nil
}

// done marks one batch of seg as acknowledged or dropped.
func (sp *spool) done(seg *segment) {
	seg.live--
	sp.removeIfDone(seg)
}

// removeIfDone deletes a segment with nothing left to send.
func (sp *spool) removeIfDone(seg *segment) {
	if seg.live > 0 {
		return
	}
	if sp.active != nil && seg == sp.segs[len(sp.segs)-1] {
		// Everything appended so far was accepted: close it, so that
		// the spool on disk is empty while the server keeps up.
		if err := sp.active.Close(); err != nil {
			sp.log.Warn("influx spool: close segment", "err", err)
		}
		sp.active = nil
	}
	i := slices.Index(sp.segs, seg)
	if i < 0 {
		return
	}
	// Forget the segment even if the file stays: keeping it would make
	// the spool retry, and count, the same removal forever.
	sp.segs = slices.Delete(sp.segs, i, i+1)
	sp.bytes -= seg.size
	if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		sp.log.Error("influx spool: remove segment", "file", seg.path, "err", err)
	}
}

// overflow returns the oldest segment to drop when the spool is over its
// size, or nil. The active segment is closed first if it is the only one.
func (sp *spool) overflow() *segment {
	if sp.bytes <= sp.max || len(sp.segs) == 0 {
		return nil
	}
	if len(sp.segs) == 1 && sp.active != nil {
		_ = sp.active.Close()
		sp.active = nil
	}
	return sp.segs[0]
}

// drop deletes a segment whatever it still holds.
func (sp *spool) drop(seg *segment) {
	seg.live = 0
	if sp.active != nil && seg == sp.segs[len(sp.segs)-1] {
		_ = sp.active.Close()
		sp.active = nil
	}
	sp.removeIfDone(seg)
}

func (sp *spool) close() error {
	if sp.active == nil {
		return nil
	}
	err := sp.active.Close()
	sp.active = nil
	return err
}
