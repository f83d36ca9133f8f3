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
	conns map[string]map[string]Link // venue: url: state
}

// set records the state of venue's connection to url, changing Since only
// when the connection comes up or goes down.
func (l *Links) set(venue, url string, up bool, reason string, retry time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns == nil {
		l.conns = map[string]map[string]Link{}
	}
	if l.conns[venue] == nil {
		l.conns[venue] = map[string]Link{}
	}
	old, seen := l.conns[venue][url]
	since := old.Since
	if !seen || old.Connected != up {
		since = time.Now()
	}
	l.conns[venue][url] = Link{Connected: up, Since: since, Reason: reason, Retry: retry}
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
