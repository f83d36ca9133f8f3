package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/candlewire/candlewire/internal/market"
)

// The soak's clients (`candlewire bench soak`) follow several streams each,
// keep the cursor of the last change they received, come back from it
// after any disconnect, and remember which final candles reached them, so
// that the run can be checked against the store: every final candle of a
// client's streams delivered, none missing.

// SoakStreams are the streams of soak client i: two of the list, round
// robin (one when the list has one).
func SoakStreams(all []string, i int) []string {
	if len(all) < 2 {
		return all
	}
	return []string{all[i%len(all)], all[(i+1)%len(all)]}
}

// soakClient is one client's state; mu guards it (its reader and the check
// both use it).
type soakClient struct {
	id      int
	streams []string
	mu      sync.Mutex
	cursor  int64 // of the last change received; 0 before the first
	got     map[string]*finals
	reconn  int
}

func newSoakClient(id int, streams []string) *soakClient {
	c := &soakClient{id: id, streams: streams, got: map[string]*finals{}}
	for _, s := range streams {
		iv := int64(60_000)
		if se, err := market.ParseSeries(s); err == nil {
			iv = se.Interval.Millis()
		}
		c.got[s] = &finals{iv: iv}
	}
	return c
}

// finals is a set of open times of one stream's final candles, as bits
// from base (the bins are a run, so a client keeps a few hundred bytes a
// stream), and how many arrived more than once.
type finals struct {
	iv, base int64
	bits     []uint64
	dups     int
}

func (f *finals) add(t int64) {
	if f.bits == nil {
		f.bits, f.base = []uint64{}, t-t%f.iv
	} else if t < f.base {
		f.rebase(t)
	}
	i := (t - f.base) / f.iv
	for int64(len(f.bits))*64 <= i {
		f.bits = append(f.bits, 0)
	}
	if f.bits[i/64]&(1<<(i%64)) != 0 {
		f.dups++
		return
	}
	f.bits[i/64] |= 1 << (i % 64)
}

// rebase moves base down to t, keeping the bits set.
func (f *finals) rebase(t int64) {
	old, oldBase := f.bits, f.base
	f.bits, f.base = []uint64{}, t-t%f.iv
	for i := range int64(len(old)) * 64 {
		if old[i/64]&(1<<(i%64)) != 0 {
			f.add(oldBase + i*f.iv)
		}
	}
}

func (f *finals) has(t int64) bool {
	if f.bits == nil || t < f.base {
		return false
	}
	i := (t - f.base) / f.iv
	return i < int64(len(f.bits))*64 && f.bits[i/64]&(1<<(i%64)) != 0
}

// soakMsg is the part of a candle message the soak reads.
type soakMsg struct {
	Stream string `json:"stream"`
	Cursor int64  `json:"cursor"`
	Candle struct {
		T     int64 `json:"t"`
		Final bool  `json:"final"`
	} `json:"candle"`
}

// record takes one candle message (WebSocket, SSE data): its cursor, and
// its open time when final. Messages that are not candles are ignored.
func (c *soakClient) record(msg []byte) {
	if !bytes.Contains(msg, []byte(`"type":"candle"`)) {
		return
	}
	if !bytes.Contains(msg, []byte(`"final":true`)) {
		if cur := cursorOf(msg); cur > 0 {
			c.mu.Lock()
			c.cursor = cur
			c.mu.Unlock()
		}
		return
	}
	var m soakMsg
	if json.Unmarshal(msg, &m) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cursor = m.Cursor
	if f := c.got[m.Stream]; f != nil {
		f.add(m.Candle.T)
	}
}

// cursorOf reads the first "cursor" of a message without decoding it.
func cursorOf(msg []byte) int64 {
	i := bytes.Index(msg, []byte(`"cursor":`))
	if i < 0 {
		return 0
	}
	msg = msg[i+9:]
	j := 0
	for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
		j++
	}
	n, _ := strconv.ParseInt(string(msg[:j]), 10, 64)
	return n
}

func (c *soakClient) lastCursor() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursor
}

// SoakCheck is one client process's answer to a check: of the expected
// final candles (each client's streams' share), how many arrived.
type SoakCheck struct {
	Transport  string   `json:"transport"`
	Clients    int      `json:"clients"`
	Connected  int      `json:"connected"` // at the start
	Reconnects int      `json:"reconnects"`
	Expected   int64    `json:"expected"`
	Received   int64    `json:"received"`
	Missing    int64    `json:"missing"`
	Duplicates int64    `json:"duplicates"` // final candles that arrived again, any
	Examples   []string `json:"missing_examples,omitempty"`
}

// check counts, over every client, the expected open times per stream it
// has and has not received.
func check(transport string, cs []*soakClient, connected int, expected map[string][]int64) SoakCheck {
	r := SoakCheck{Transport: transport, Clients: len(cs), Connected: connected}
	for _, c := range cs {
		c.mu.Lock()
		r.Reconnects += c.reconn
		for _, s := range c.streams {
			f := c.got[s]
			r.Duplicates += int64(f.dups)
			for _, t := range expected[s] {
				r.Expected++
				if f.has(t) {
					r.Received++
					continue
				}
				r.Missing++
				if len(r.Examples) < 5 {
					r.Examples = append(r.Examples, fmt.Sprintf("%s client %d: %s t=%d (cursor %d)", transport, c.id, s, t, c.cursor))
				}
			}
		}
		c.mu.Unlock()
	}
	return r
}
