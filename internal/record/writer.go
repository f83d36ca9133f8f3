package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/candlewire/candlewire/internal/upstream"
)

// Config says where and how a Recorder writes.
type Config struct {
	Dir      string        // folder of the files; created if missing
	Venue    string        // names the files: VENUE.ws.<connect time>.<n>.zst
	Rotate   time.Duration // a file is closed after this long; default 1h
	MaxBytes int64         // or after this many bytes of lines; default 256 MiB
	Flush    time.Duration // buffered lines reach the disk at least this often; default 1s
	Logger   *slog.Logger
}

// Recorder is an upstream.Tap that writes each connection of one venue to
// its own files.
type Recorder struct {
	cfg     Config
	seq     atomic.Int64
	skipped atomic.Int64
	mu      sync.Mutex
	files   []string // every file written, in the order opened
}

// New checks cfg and makes the folder.
func New(cfg Config) (*Recorder, error) {
	if cfg.Dir == "" || cfg.Venue == "" {
		return nil, fmt.Errorf("record: a folder and a venue are needed")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("record: make %s: %w", cfg.Dir, err)
	}
	if cfg.Rotate <= 0 {
		cfg.Rotate = time.Hour
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 256 << 20
	}
	if cfg.Flush <= 0 {
		cfg.Flush = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{cfg: cfg}, nil
}

// Files lists the files written so far.
func (r *Recorder) Files() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.files...)
}

// Skipped counts frames not written: text that is not valid JSON and
// holds a line break, which the line format cannot carry.
func (r *Recorder) Skipped() int64 { return r.skipped.Load() }

// Open starts the files of one connection.
func (r *Recorder) Open(url string, at time.Time) upstream.ConnTap {
	c := &connFile{r: r, url: url, connected: at, id: r.seq.Add(1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate(at)
	return c
}

// connFile is one connection's current file.
type connFile struct {
	r         *Recorder
	url       string
	connected time.Time
	id        int64
	mu        sync.Mutex
	n         int // files of this connection so far
	f         *os.File
	zw        *zstd.Encoder
	bw        *bufio.Writer
	opened    time.Time
	bytes     int64
	flushed   time.Time
	err       error // the first write error; the connection's recording stops
}

func (c *connFile) Sent(at time.Time, msg []byte) { c.line(at, c.url+" <- "+stamp(at)+": ", msg) }

func (c *connFile) Received(at time.Time, msg []byte) { c.line(at, stamp(at)+": ", msg) }

func (c *connFile) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.close()
}

// line writes prefix and msg as one line, rotating first when the file is
// old or big. JSON with line breaks between its tokens is compacted.
func (c *connFile) line(at time.Time, prefix string, msg []byte) {
	if bytes.ContainsAny(msg, "\r\n") {
		var buf bytes.Buffer
		if json.Compact(&buf, msg) != nil || bytes.ContainsAny(buf.Bytes(), "\r\n") {
			c.r.skipped.Add(1)
			return
		}
		msg = buf.Bytes()
	}
	b := append([]byte(prefix), msg...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bw == nil {
		return
	}
	if at.Sub(c.opened) >= c.r.cfg.Rotate || c.bytes >= c.r.cfg.MaxBytes {
		c.close()
		c.rotate(at)
		if c.bw == nil {
			return
		}
	}
	c.write(append(b, '\n'))
	if c.bw != nil && at.Sub(c.flushed) >= c.r.cfg.Flush {
		c.flushed = at
		c.flush()
	}
}

// rotate opens the connection's next file and writes its connect line.
func (c *connFile) rotate(at time.Time) {
	if c.err != nil {
		return
	}
	c.n++
	name := fmt.Sprintf("%s.ws.%s.%d-%d.zst", c.r.cfg.Venue, c.connected.UTC().Format("20060102T150405.000Z"), c.id, c.n)
	path := filepath.Join(c.r.cfg.Dir, name)
	f, err := os.Create(path)
	if err != nil {
		c.fail(fmt.Errorf("create %s: %w", path, err))
		return
	}
	zw, _ := zstd.NewWriter(f, zstd.WithEncoderLevel(zstd.SpeedDefault))
	c.f, c.zw, c.bw, c.opened, c.bytes, c.flushed = f, zw, bufio.NewWriterSize(zw, 64<<10), at, 0, at
	c.r.mu.Lock()
	c.r.files = append(c.r.files, path)
	c.r.mu.Unlock()
	c.write([]byte(c.url + " <-> " + stamp(c.connected) + "\n"))
}

func (c *connFile) write(b []byte) {
	if _, err := c.bw.Write(b); err != nil {
		c.fail(fmt.Errorf("write %s: %w", c.f.Name(), err))
		return
	}
	c.bytes += int64(len(b))
}

func (c *connFile) flush() {
	err := c.bw.Flush()
	if err == nil {
		err = c.zw.Flush()
	}
	if err != nil {
		c.fail(fmt.Errorf("flush %s: %w", c.f.Name(), err))
	}
}

// close ends the current file: everything buffered is compressed and
// written, and the file is closed.
func (c *connFile) close() {
	if c.bw == nil {
		return
	}
	err := c.bw.Flush()
	if err2 := c.zw.Close(); err == nil {
		err = err2
	}
	if err2 := c.f.Close(); err == nil {
		err = err2
	}
	if err != nil {
		c.fail(fmt.Errorf("close %s: %w", c.f.Name(), err))
	}
	c.f, c.zw, c.bw = nil, nil, nil
}

func (c *connFile) fail(err error) {
	if c.err == nil {
		c.err = err
		c.r.cfg.Logger.Error("recording stopped for a connection", "url", c.url, "err", err)
	}
	if c.f != nil {
		c.f.Close() //nolint:errcheck // already failing
	}
	c.f, c.zw, c.bw = nil, nil, nil
}

// stamp is a time as the recordings write it: Unix seconds with a fraction.
func stamp(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMicro())/1e6, 'f', 6, 64)
}
