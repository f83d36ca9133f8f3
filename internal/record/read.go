package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Line is one line of a recording.
type Line struct {
	Kind byte      // 'c' connect, 's' sent, 'r' received
	URL  string    // connect and sent lines
	At   time.Time // when it happened
	Text []byte    // the frame (sent and received lines)
}

// ErrFormat is wrapped by every error about a recording's content.
var ErrFormat = errors.New("record: not a recording line")

// maxLine bounds one line (a frame and its prefix).
const maxLine = 16 << 20

// ReadFile reads a recording: zstd-compressed (as `candlewire record`
// writes) or plain text (as ../shared/realdata holds). Lines that are not
// in the format are an error naming the line.
func ReadFile(path string) ([]Line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open recording: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(4); bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, fmt.Errorf("read recording %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	lines, err := Parse(r)
	if err != nil {
		return lines, fmt.Errorf("read recording %s: %w", path, err)
	}
	return lines, nil
}

// Parse reads recording lines until the end of r.
func Parse(r io.Reader) ([]Line, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var out []Line
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		l, err := parseLine(sc.Text())
		if err != nil {
			return out, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

func parseLine(s string) (Line, error) {
	if url, t, ok := strings.Cut(s, " <-> "); ok && !strings.Contains(url, " ") {
		at, err := parseStamp(t)
		return Line{Kind: 'c', URL: url, At: at}, err
	}
	if url, rest, ok := strings.Cut(s, " <- "); ok && !strings.Contains(url, " ") {
		t, text, ok := strings.Cut(rest, ": ")
		if !ok {
			return Line{}, fmt.Errorf("%w: sent line without text", ErrFormat)
		}
		at, err := parseStamp(t)
		return Line{Kind: 's', URL: url, At: at, Text: []byte(text)}, err
	}
	t, text, ok := strings.Cut(s, ": ")
	if !ok {
		return Line{}, fmt.Errorf("%w: %.40q", ErrFormat, s)
	}
	at, err := parseStamp(t)
	return Line{Kind: 'r', At: at, Text: []byte(text)}, err
}

// parseStamp reads Unix seconds with an optional fraction.
func parseStamp(s string) (time.Time, error) {
	sec, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("%w: time %q", ErrFormat, s)
	}
	var ns int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, fmt.Errorf("%w: time %q", ErrFormat, s)
		}
	}
	return time.Unix(n, ns), nil
}
