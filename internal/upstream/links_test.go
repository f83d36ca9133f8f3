package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestLinksFollowRun: Links says connected while a session runs, and after
// it ends, or while connects are refused, not connected with the reason and
// the time of the next attempt; the time without a connection counts from
// the loss, not from the last failed attempt.
func TestLinksFollowRun(t *testing.T) {
	var refuse atomic.Bool
	srv := refusing(&refuse)
	defer srv.Close()
	links := &Links{}
	if _, ok := links.Link("test"); ok {
		t.Fatal("a link before Run")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leave := make(chan struct{})
	cfg := Config{Venue: "test", Budget: NewBudget(100, time.Minute, nil), Backoff: Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond}, Links: links}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, cfg, "ws"+strings.TrimPrefix(srv.URL, "http"), func(ctx context.Context, conn *Conn) error { //nolint:errcheck // ends with ctx
			select {
			case <-leave:
				return errTest
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	wait := func(what string, ok func(Link) bool) Link { t.Helper(); return waitLink(t, links, what, ok) }
	up := wait("connected", func(l Link) bool { return l.Connected })
	if up.Reason != "" || !up.Retry.IsZero() {
		t.Errorf("connected link %+v has a reason or a retry", up)
	}
	refuse.Store(true)
	close(leave)
	down := wait("refused", func(l Link) bool { return !l.Connected && strings.Contains(l.Reason, "refused") && !l.Retry.IsZero() })
	if d := time.Until(down.Retry); d > 1100*time.Millisecond {
		t.Errorf("next attempt in %s, the venue asked for 1s", d)
	}
	if !down.Since.After(up.Since) {
		t.Errorf("down since %s, before it came up at %s", down.Since, up.Since)
	}
	again := wait("refused again", func(l Link) bool { return l.Retry.After(down.Retry) })
	if !again.Since.Equal(down.Since) {
		t.Errorf("a second refusal moved the loss from %s to %s", down.Since, again.Since)
	}
	cancel()
	<-done
	if l, ok := links.Link("test"); ok {
		t.Errorf("Run returned and its link stays: %+v", l)
	}
}

// TestLinksOfSeveralConnections: a venue is connected while all its
// connections are (several may share one URL), else it is the one down
// longest; a connection that ends is forgotten.
func TestLinksOfSeveralConnections(t *testing.T) {
	var l Links
	a, b := l.open(), l.open()
	l.set("v", a, true, "", time.Time{})
	l.set("v", b, true, "", time.Time{})
	if got, _ := l.Link("v"); !got.Connected {
		t.Fatalf("both up: %+v", got)
	}
	l.set("v", b, false, "connection lost (silent)", time.Now().Add(time.Second))
	got, _ := l.Link("v")
	if got.Connected || got.Reason != "connection lost (silent)" {
		t.Fatalf("one of two down: %+v", got)
	}
	since := got.Since
	l.set("v", a, true, "", time.Time{}) // the other one's news does not hide it
	l.set("v", b, false, "cannot reach the venue", time.Now().Add(2*time.Second))
	if got, _ := l.Link("v"); got.Connected || !got.Since.Equal(since) || got.Reason != "cannot reach the venue" {
		t.Fatalf("still down: %+v, down since %s", got, since)
	}
	l.close("v", b)
	if got, _ := l.Link("v"); !got.Connected {
		t.Fatalf("the down one ended: %+v", got)
	}
}

var errTest = errors.New("test session ends")

// refusing is a WebSocket server that answers 429 (retry after 1 s) while
// refuse is set.
func refusing(refuse *atomic.Bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.Read(r.Context()) //nolint:errcheck // until the client goes
	}))
}

// waitLink waits until the link of venue "test" is as ok wants.
func waitLink(t *testing.T, links *Links, what string, ok func(Link) bool) Link {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if l, found := links.Link("test"); found && ok(l) {
			return l
		}
	}
	l, _ := links.Link("test")
	t.Fatalf("%s: the link stays %+v", what, l)
	return l
}
