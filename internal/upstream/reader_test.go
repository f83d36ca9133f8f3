package upstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/metrics"
)

// TestTextPingQuietMeansNoBytes: a frame that takes several idle periods to
// arrive, in pieces, is not taken for silence; a peer that then sends
// nothing and answers no ping is.
func TestTextPingQuietMeansNoBytes(t *testing.T) {
	const idle, pongWait = 60 * time.Millisecond, 60 * time.Millisecond
	ctx, conn, r := dial(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow() //nolint:errcheck // test server
		mw, err := c.Writer(r.Context(), websocket.MessageText)
		if err != nil {
			return
		}
		// 8 fragments, 40 ms apart (over five idle periods), each larger
		// than the write buffer so that it goes out at once.
		for i := 0; i < 8; i++ {
			if _, err := mw.Write([]byte(strings.Repeat("x", 8<<10))); err != nil {
				return
			}
			time.Sleep(40 * time.Millisecond)
		}
		mw.Close() //nolint:errcheck // test server
		// Take the client's pings, answer none, until it leaves.
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}, 1<<20)
	var got []int
	err := TextPing(ctx, conn, r, idle, pongWait, func(b []byte) error { got = append(got, len(b)); return nil })
	if !errors.Is(err, ErrSilent) {
		t.Fatalf("ended with %v, want silence after the frame", err)
	}
	if len(got) != 1 || got[0] != 64<<10 {
		t.Fatalf("frames %v, want one of 64 KiB", got)
	}
}

// TestRunCountsOversizedFrame: a frame over the read limit ends the session
// with the oversized-frame reason, even while a ping is due.
func TestRunCountsOversizedFrame(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()                                                               //nolint:errcheck // test server
		c.Write(r.Context(), websocket.MessageText, []byte(strings.Repeat("x", 64<<10))) //nolint:errcheck // the client cuts it
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ended error
	cfg := Config{Venue: "test", Budget: NewBudget(100, time.Minute, nil), MaxFrame: 1024}
	Run(ctx, cfg, "ws"+strings.TrimPrefix(srv.URL, "http"), func(ctx context.Context, conn *Conn) error { //nolint:errcheck // ends by cancel
		r := NewReader(ctx, conn)
		defer r.Stop()
		ended = TextPing(ctx, conn, r, time.Millisecond, time.Second, func([]byte) error { return nil })
		cancel()
		return ended
	})
	if got := classify(ended); got != "oversized-frame" {
		t.Fatalf("session ended with %v, classified %q, want oversized-frame", ended, got)
	}
}

// TestExplainHandsOverQueuedFrames: a peer that sends its frames and closes
// before the client's write goes out (a replay at full speed, before the
// subscribe) loses none of them, and the write's failure is explained by the
// peer's close.
func TestExplainHandsOverQueuedFrames(t *testing.T) {
	ctx, conn, r := dial(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		for _, m := range []string{"a", "b", "c"} {
			c.Write(r.Context(), websocket.MessageText, []byte(m)) //nolint:errcheck // test server
		}
		c.Close(websocket.StatusNormalClosure, "end of recording") //nolint:errcheck // test server
	}, 0)
	for len(r.C) < 4 { // three frames and the close
		if ctx.Err() != nil {
			t.Fatal("the reader did not see the close")
		}
		time.Sleep(time.Millisecond)
	}
	werr := conn.Write(ctx, websocket.MessageText, []byte("subscribe"))
	if werr == nil {
		t.Fatal("a write after the peer closed succeeded")
	}
	var got []string
	err := r.Explain(werr, time.Second, func(b []byte) error { got = append(got, string(b)); return nil })
	if strings.Join(got, "") != "abc" || err == nil || !strings.Contains(err.Error(), "end of recording") {
		t.Fatalf("handled %q, ended with %v; want abc and the peer's close", got, err)
	}
}

// dial serves h and opens a Conn on it (readLimit 0: the library's), with
// its Reader; both end with the test, within 5 s.
func dial(t *testing.T, h http.HandlerFunc, readLimit int64) (context.Context, *Conn, *Reader) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if readLimit > 0 {
		ws.SetReadLimit(readLimit)
	}
	conn := NewConn(ws, nil)
	r := NewReader(ctx, conn)
	t.Cleanup(r.Stop)
	return ctx, conn, r
}

// TestServerPingsAreHeard: a peer that sends no data, only pings (Binance
// on a quiet stream), is alive while it pings and silent once it stops.
func TestServerPingsAreHeard(t *testing.T) {
	const silence, pinging = 100 * time.Millisecond, 400 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()              //nolint:errcheck // test server
		ctx := c.CloseRead(r.Context()) // reads the pongs
		for end := time.Now().Add(pinging); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if c.Ping(ctx) != nil {
				return
			}
		}
		<-ctx.Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ended error
	var lasted time.Duration
	cfg := Config{Venue: "test", Budget: NewBudget(100, time.Minute, nil)}
	Run(ctx, cfg, "ws"+strings.TrimPrefix(srv.URL, "http"), func(ctx context.Context, conn *Conn) error { //nolint:errcheck // ends by cancel
		start := time.Now()
		r := NewReader(ctx, conn)
		defer r.Stop()
		ended = Watch(ctx, r, silence/4, silence, nil, func([]byte) error { return nil })
		lasted = time.Since(start)
		cancel()
		return ended
	})
	if !errors.Is(ended, ErrSilent) || lasted < pinging {
		t.Fatalf("session ended after %s with %v; want silence once the pings stop, after %s", lasted, ended, pinging)
	}
}

// TestClassifyNamesDeclared: every reason a session's end is given is one
// metrics.Declare creates at 0, so dashboards see each from the start.
func TestClassifyNamesDeclared(t *testing.T) {
	for _, err := range []error{ErrRedial, &RetryAfterError{After: time.Second, Err: errors.New("429")}, ErrSilent,
		websocket.ErrMessageTooBig, websocket.CloseError{Code: websocket.StatusGoingAway}, io.EOF} {
		if r := classify(err); !slices.Contains(metrics.ReconnectReasons, r) {
			t.Errorf("classify(%v) = %q, not in metrics.ReconnectReasons %v", err, r, metrics.ReconnectReasons)
		}
	}
}
