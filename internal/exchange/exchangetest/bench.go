package exchangetest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
)

// SimFrames returns the distinct received frames that keep accepts from a
// simulator recording in this package's testdata (made by candlewire
// record --sim; testdata/README.md says how), for frame kinds the real
// recordings lack.
func SimFrames(tb testing.TB, file string, keep func([]byte) bool) [][]byte {
	tb.Helper()
	_, here, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(here), "testdata", file))
	if err != nil {
		tb.Fatalf("open simulator recording: %v", err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		tb.Fatalf("read simulator recording %s: %v", file, err)
	}
	defer zr.Close()
	frames, err := realdata.Parse(zr)
	if err != nil {
		tb.Fatalf("read simulator recording %s: %v", file, err)
	}
	out := realdata.Distinct(frames, keep)
	if len(out) == 0 {
		tb.Fatalf("simulator recording %s has no frame of the kind asked", file)
	}
	return out
}

// FrameKind is one kind of frame a venue sends (aggTrade, kline, …) for
// BenchFrames: its frames, and what to do with one.
type FrameKind struct {
	Name   string   // the venue's name of the kind
	Frames [][]byte // every distinct frame of the kind, cycled
	// Bins are the venue's candle options (its driver's Bins).
	Bins candle.Options
	// Decode decodes a frame with the feed's decoder.
	Decode func(frame []byte) error
	// Candle decodes a frame and applies what it holds to the engines, as
	// the collector does; cycle counts the passes over Frames.
	Candle func(cycle int, frame []byte, e *Engines) error
}

// Kind builds a FrameKind from a feed decoder's Decode and apply, which
// hands what an event holds to the engines as the collector's sink does.
func Kind[E any](name string, frames [][]byte, bins candle.Options, decode func([]byte) (E, error), apply func(ev E, cycle int, e *Engines)) FrameKind {
	return FrameKind{Name: name, Frames: frames, Bins: bins,
		Decode: func(f []byte) error {
			_, err := decode(f)
			return err
		},
		Candle: func(cycle int, f []byte, e *Engines) error {
			ev, err := decode(f)
			if err == nil {
				apply(ev, cycle, e)
			}
			return err
		},
	}
}

// BenchFrames runs a decode and a decode-into-candle benchmark for each
// kind (KIND/decode, KIND/candle), one frame per operation, every frame
// cycled, and reports frames per second.
func BenchFrames(b *testing.B, kinds ...FrameKind) {
	for _, k := range kinds {
		size := 0
		for _, f := range k.Frames {
			size += len(f)
		}
		b.Run(k.Name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size / len(k.Frames)))
			for i := 0; b.Loop(); i++ {
				if err := k.Decode(k.Frames[i%len(k.Frames)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
		b.Run(k.Name+"/candle", func(b *testing.B) {
			e := NewEngines(k.Bins)
			b.ReportAllocs()
			b.SetBytes(int64(size / len(k.Frames)))
			for i := 0; b.Loop(); i++ {
				if err := k.Candle(i/len(k.Frames), k.Frames[i%len(k.Frames)], e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// cycleShift moves each pass over the frames a day later, and its trade
// ids past the previous pass's, so the engines see time and ids move on as
// in a live feed (a recording is far shorter than a day).
const (
	cycleMillis = 24 * 60 * 60 * 1000
	cycleSeqs   = 1 << 40
)

// Engines holds one candle engine per market, as the collector does.
type Engines struct {
	opts    candle.Options
	engines map[market.Market]*candle.Engine
	// Versions counts the candle versions the engines produced.
	Versions int
}

// NewEngines returns engines with the venue's options.
func NewEngines(o candle.Options) *Engines {
	return &Engines{opts: o, engines: map[market.Market]*candle.Engine{}}
}

func (e *Engines) of(m market.Market) *candle.Engine {
	eng := e.engines[m]
	if eng == nil {
		eng = candle.NewEngineWith(m, e.opts)
		e.engines[m] = eng
	}
	return eng
}

// Trade applies one trade of pass cycle, as Trades does.
func (e *Engines) Trade(cycle int, t market.Trade) {
	one := [1]market.Trade{t}
	e.Trades(cycle, one[:])
}

// Trades applies a frame's trades of pass cycle, each run of one market
// at once, as the collector's sink does. It moves them to their pass in
// place, which a sink may not do: they are the decoder's, and every pass
// decodes its frames again.
func (e *Engines) Trades(cycle int, ts []market.Trade) {
	if cycle > 0 {
		for i := range ts {
			t := &ts[i]
			t.Time += int64(cycle) * cycleMillis
			if t.LastSeq > 0 {
				t.FirstSeq += int64(cycle) * cycleSeqs
				t.LastSeq += int64(cycle) * cycleSeqs
			}
		}
	}
	for len(ts) > 0 {
		n := market.RunLen(ts)
		e.Versions += len(e.of(ts[0].Market).Trades(ts[:n]))
		ts = ts[n:]
	}
}

// Bin applies a venue candle of pass cycle.
func (e *Engines) Bin(cycle int, c market.Candle) {
	c.OpenTime += int64(cycle) * cycleMillis
	if c.LastSeq > 0 {
		c.LastSeq += int64(cycle) * cycleSeqs
	}
	e.Versions += len(e.of(c.Market).Bin(c))
}

// CheckFrames runs every frame of each kind once through Decode and
// Candle, as BenchFrames would: the benchmark's inputs and paths work,
// checked by every test run (benchmarks are not).
func CheckFrames(t *testing.T, kinds ...FrameKind) {
	t.Helper()
	for _, k := range kinds {
		e := NewEngines(k.Bins)
		for i, f := range k.Frames {
			if err := k.Decode(f); err != nil {
				t.Fatalf("%s frame %d: %v", k.Name, i, err)
			}
			if err := k.Candle(0, f, e); err != nil {
				t.Fatalf("%s frame %d into candles: %v", k.Name, i, err)
			}
		}
		if len(k.Frames) == 0 {
			t.Fatalf("%s: no frames", k.Name)
		}
		t.Logf("%s: %d distinct frames, %d candle versions", k.Name, len(k.Frames), e.Versions)
	}
}
