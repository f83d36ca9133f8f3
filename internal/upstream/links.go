package upstream

import (
	"sync"
	"time"
)

// Link is the state of a venue's feed: connected, or since when not, why,
// and when it tries again. A venue with several connections is connected
// while all of them are; otherwise it is the state of the one that has been
// down longest.
type Link struct {
	Connected bool
	Since     time.Time // connected since, or without a connection since
	Reason    string    // why it has none ("" while connected)
	Retry     time.Time // the next connect attempt (zero while connected or unknown)
}

// Links keeps the state of every connection that Run makes, for the chart
// page's banner and /healthz. The zero value is ready; a nil *Links keeps
// nothing.
type Links struct {
	mu    sync.Mutex
	last  int                     // the newest connection's number
	conns map[string]map[int]Link // venue: connection (one Run): state
}

// open numbers a new connection of venue (one Run call; several may share
// a URL).
func (l *Links) open() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last++
	return l.last
}

// set records the state of venue's connection id, changing Since only when
// the connection comes up or goes down.
func (l *Links) set(venue string, id int, up bool, reason string, retry time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns == nil {
		l.conns = map[string]map[int]Link{}
	}
	if l.conns[venue] == nil {
		l.conns[venue] = map[int]Link{}
	}
	old, seen := l.conns[venue][id]
	since := old.Since
	if !seen || old.Connected != up {
		since = time.Now()
	}
	l.conns[venue][id] = Link{Connected: up, Since: since, Reason: reason, Retry: retry}
}

// close forgets venue's connection id (its Run returned).
func (l *Links) close(venue string, id int) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns[venue], id)
}

// Link returns the state of venue's feed, and false before Run started one.
func (l *Links) Link(venue string) (Link, bool) {
	if l == nil {
		return Link{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out Link
	found := false
	for _, c := range l.conns[venue] {
		switch {
		case !found:
			out, found = c, true
		case out.Connected && !c.Connected, out.Connected == c.Connected && c.Since.Before(out.Since):
			out = c
		}
	}
	return out, found
}
