package sim

import (
	"fmt"
	"maps"
	"sync"
	"time"
)

// Fault kinds that can be injected per venue.
const (
	FaultDrop      = "drop"       // close every WebSocket connection now
	FaultSilence   = "silence"    // keep connections open but send nothing (half-open)
	FaultMalformed = "malformed"  // send one malformed frame on each connection (see Mark)
	FaultOversize  = "oversize"   // send one oversized frame on each connection (see Mark)
	FaultRefuse    = "refuse"     // answer WebSocket connects with HTTP 429
	FaultREST5xx   = "rest-5xx"   // REST answers 503
	FaultREST429   = "rest-429"   // REST answers 429 with Retry-After
	FaultSkipFinal = "skip-final" // do not publish the next final kline or bin
	FaultShutdown  = "shutdown"   // announce a server shutdown on each connection, then close (Binance)
)

// FaultKinds lists every fault kind.
var FaultKinds = []string{FaultDrop, FaultSilence, FaultMalformed, FaultOversize, FaultRefuse, FaultREST5xx, FaultREST429, FaultSkipFinal, FaultShutdown}

// Faults holds the faults in force, per venue. Durations are simulated time.
type Faults struct {
	clock *Clock
	mu    sync.Mutex
	v     map[string]*venueFaults
}

type venueFaults struct {
	until  map[string]int64 // kind -> simulated ms it lasts until
	counts map[string]int   // skip-final -> how many remain
	issued map[string]int   // per-connection kinds -> how many were injected
	taken  map[string]int   // per-connection kinds -> the most any connection has noticed
	drop   chan struct{}    // closed (and replaced) by each drop
}

func newFaults(c *Clock) *Faults { return &Faults{clock: c, v: map[string]*venueFaults{}} }

func (f *Faults) venue(v string) *venueFaults {
	vf := f.v[v]
	if vf == nil {
		vf = &venueFaults{until: map[string]int64{}, counts: map[string]int{}, issued: map[string]int{},
			taken: map[string]int{}, drop: make(chan struct{})}
		f.v[v] = vf
	}
	return vf
}

// Inject starts a fault. Timed kinds (silence, refuse, rest-5xx, rest-429)
// last d of simulated time; the others happen once.
func (f *Faults) Inject(venue, kind string, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	vf := f.venue(venue)
	switch kind {
	case FaultSilence, FaultRefuse, FaultREST5xx, FaultREST429:
		if d <= 0 {
			d = 30 * time.Second
		}
		vf.until[kind] = f.clock.Now() + d.Milliseconds()
	case FaultDrop:
		close(vf.drop)
		vf.drop = make(chan struct{})
	case FaultMalformed, FaultOversize, FaultShutdown:
		vf.issued[kind]++
	case FaultSkipFinal:
		vf.counts[kind]++
	default:
		return fmt.Errorf("unknown fault %q (want one of %v)", kind, FaultKinds)
	}
	return nil
}

// Active reports whether a timed fault is in force.
func (f *Faults) Active(venue, kind string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock.Now() < f.venue(venue).until[kind]
}

// Take consumes one pending skip-final, reporting whether there was one:
// the next final bin of the venue, on whichever connection, is not sent.
func (f *Faults) Take(venue, kind string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	vf := f.venue(venue)
	if vf.counts[kind] == 0 {
		return false
	}
	vf.counts[kind]--
	return true
}

// Mark is one connection's view of the faults that reach every connection
// (malformed, oversize, shutdown): each injection reaches each connection
// open at the time once, and when none is open, the next that opens.
type Mark struct {
	venue string
	seen  map[string]int
}

// Mark starts a connection's view: injections some connection has already
// noticed are not its.
func (f *Faults) Mark(venue string) *Mark {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &Mark{venue: venue, seen: maps.Clone(f.venue(venue).taken)}
}

// Notice reports whether a fault of kind reached the connection of m since
// it last noticed one, once per injection.
func (f *Faults) Notice(m *Mark, kind string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	vf := f.venue(m.venue)
	if m.seen[kind] >= vf.issued[kind] {
		return false
	}
	m.seen[kind]++
	vf.taken[kind] = max(vf.taken[kind], m.seen[kind])
	return true
}

// Dropped returns a channel closed at the next drop fault.
func (f *Faults) Dropped(venue string) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.venue(venue).drop
}
