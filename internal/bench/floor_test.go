package bench

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkFanoutFloor is the least a fan-out round can cost on this
// machine (Floor): a 339-byte frame written to each of 9,000 loopback
// sockets per round, with nothing reading them (plain) and with reader
// threads reading each frame as it arrives (live). ms/round10k scales the
// round's CPU to 10,000 sockets, spread over the writing threads: the time
// by which the last of 10,000 clients can have an update if the server had
// every CPU and the clients none. `candlewire bench fanout` measures the
// same floors after each run.
//
//	go test -run x -bench FanoutFloor -cpu 1,2 ./internal/bench
func BenchmarkFanoutFloor(b *testing.B) {
	for _, c := range []struct {
		name    string
		measure func() (Floor, error)
	}{
		{"plain", func() (Floor, error) { return MeasureFloor(9000, 339, time.Nanosecond) }},
		{"live", func() (Floor, error) { return MeasureLiveFloor(9000, 339, time.Nanosecond, nil) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var total Floor
			for b.Loop() {
				f, err := c.measure() // one round
				if err != nil {
					b.Fatal(err)
				}
				total.Writes, total.CPU, total.Wall, total.Sockets = total.Writes+f.Writes, total.CPU+f.CPU, total.Wall+f.Wall, f.Sockets
			}
			b.ReportMetric(float64(total.CPU.Nanoseconds())/float64(total.Writes), "ns-cpu/write")
			b.ReportMetric(float64(total.Per1000())*10/float64(runtime.GOMAXPROCS(0))/1e6, "ms/round10k")
		})
	}
}

// TestFloorMeasures: both floors write to loopback sockets and count their
// CPU, and the live floor leaves GOMAXPROCS as it found it.
func TestFloorMeasures(t *testing.T) {
	for _, c := range []struct {
		name    string
		measure func() (Floor, error)
	}{
		{"plain", func() (Floor, error) { return MeasureFloor(50, 339, 50*time.Millisecond) }},
		{"live", func() (Floor, error) { return MeasureLiveFloor(50, 339, 50*time.Millisecond, nil) }},
		{"live on CPU 0", func() (Floor, error) { return MeasureLiveFloor(50, 339, 50*time.Millisecond, AllowedCPUs()[:1]) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			procs := runtime.GOMAXPROCS(0)
			f, err := c.measure()
			if err != nil && runtime.GOOS != "linux" {
				t.Skipf("the write floor: %v", err)
			}
			if err != nil {
				t.Fatalf("the write floor: %v", err)
			}
			if f.Sockets != 50 || f.Writes < 50 || f.CPU <= 0 || f.Per1000() <= 0 {
				t.Fatalf("floor %+v, per 1000 writes %v", f, f.Per1000())
			}
			if got := runtime.GOMAXPROCS(0); got != procs {
				t.Fatalf("GOMAXPROCS %d after the floor, was %d", got, procs)
			}
		})
	}
}

func TestParseCPUs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		bad  bool
	}{{"", "", false}, {"0", "0", false}, {"1,3", "1,3", false}, {"0-2", "0,1,2", false}, {"0-1,1", "0,1", false},
		{"x", "", true}, {"2-1", "", true}, {"-1", "", true}, {"0,", "", true}} {
		got, err := ParseCPUs(c.in)
		if (err != nil) != c.bad || cpuList(got) != c.want {
			t.Errorf("ParseCPUs(%q) = %v, %v; want %q (bad %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestPartRatios(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		parts []Part
		want  string
	}{
		{nil, "n/a"},
		{[]Part{{Deliveries: 10, CPUPer1000: 6 * ms}}, "n/a"}, // no floor
		{[]Part{{CPUPer1000: 6 * ms, FloorPer1000: 5 * ms}, {CPUPer1000: 5 * ms, FloorPer1000: 5 * ms}}, "1.20 / 1.00"},
		{[]Part{{CPUPer1000: 6 * ms, FloorPer1000: 5 * ms}, {FloorPer1000: 5 * ms}}, "1.20 / n/a"}, // a part without deliveries
	} {
		if got := partRatios(c.parts); got != c.want {
			t.Errorf("partRatios(%+v) = %q, want %q", c.parts, got, c.want)
		}
	}
}
