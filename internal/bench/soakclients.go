package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// soakClients are the clients of one transport in a soak's client process.
type soakClients struct {
	base      string
	transport string
	http      *http.Client
	all       []*soakClient
}

// RunSoakClients connects n soak clients of a transport ("ws", "sse" or
// "longpoll") to base, spread over streams, and writes "ready N" on out
// once they are connected. Each line "check JSON" read from in (the
// expected open times of final candles by stream) is answered with a
// SoakCheck as one JSON line; at the end of in the clients stop.
func RunSoakClients(ctx context.Context, base, transport string, n int, streams []string, in io.Reader, out io.Writer) error {
	if transport != "ws" && transport != "sse" && transport != "longpoll" {
		return fmt.Errorf("soak transport %q: want ws, sse or longpoll", transport)
	}
	if len(streams) == 0 {
		return fmt.Errorf("soak clients need streams")
	}
	s := &soakClients{base: base, transport: transport}
	s.http = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n + 10, MaxConnsPerHost: 0}}
	defer s.http.CloseIdleConnections()
	for i := range n {
		s.all = append(s.all, newSoakClient(i, SoakStreams(streams, i)))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var connected int
	var wait func()
	if transport == "ws" {
		connected, wait = s.epollWS(ctx)
	} else {
		connected, wait = s.goroutines(ctx)
	}
	defer wait()
	defer cancel()
	fmt.Fprintf(out, "ready %d\n", connected)
	return s.serveChecks(in, out, connected)
}

// serveChecks answers "check" lines until in ends.
func (s *soakClients) serveChecks(in io.Reader, out io.Writer, connected int) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	enc := json.NewEncoder(out)
	for sc.Scan() {
		arg, ok := strings.CutPrefix(sc.Text(), "check ")
		if !ok {
			continue
		}
		var expected map[string][]int64
		if err := json.Unmarshal([]byte(arg), &expected); err != nil {
			return fmt.Errorf("soak check: %w", err)
		}
		if err := enc.Encode(check(s.transport, s.all, connected, expected)); err != nil {
			return err
		}
	}
	return sc.Err()
}

// goroutines runs each SSE or long-poll client in a goroutine of its own;
// it returns how many connected and a func that waits for them after ctx
// ends.
func (s *soakClients) goroutines(ctx context.Context) (int, func()) {
	var wg sync.WaitGroup
	connected := 0
	for _, c := range s.all {
		ready := make(chan struct{})
		wg.Add(1)
		go func() { defer wg.Done(); s.follow(ctx, c, ready) }()
		select {
		case <-ready:
			connected++
		case <-time.After(30 * time.Second):
		case <-ctx.Done():
		}
	}
	return connected, wg.Wait
}

// follow runs one client until ctx ends, coming back from its cursor after
// every disconnect; ready is closed once it first follows its streams.
func (s *soakClients) follow(ctx context.Context, c *soakClient, ready chan struct{}) {
	var once sync.Once
	onReady := func() { once.Do(func() { close(ready) }) }
	for ctx.Err() == nil {
		var err error
		if s.transport == "sse" {
			err = s.sse(ctx, c, onReady)
		} else {
			err = s.longPoll(ctx, c, onReady)
		}
		if ctx.Err() != nil {
			return
		}
		_ = err // any end is a disconnect: come back from the cursor
		c.mu.Lock()
		c.reconn++
		c.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// startCursor is where a client without a cursor starts: the store's
// newest change, read as the bench's polling clients do.
func (s *soakClients) startCursor(ctx context.Context, c *soakClient) (int64, error) {
	if cur := c.lastCursor(); cur > 0 {
		return cur, nil
	}
	q := url.Values{"limit": {"1"}, "market": {strings.SplitN(c.streams[0], "@", 2)[0]}}
	var head struct {
		Cursor int64 `json:"cursor"`
	}
	if err := s.getJSON(ctx, "/v1/candles?"+q.Encode(), &head); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cursor == 0 {
		c.cursor = head.Cursor
	}
	return c.cursor, nil
}

// sse follows the client's streams over /v1/sse from its cursor
// (Last-Event-ID), as a browser does.
func (s *soakClients) sse(ctx context.Context, c *soakClient, ready func()) error {
	cur, err := s.startCursor(ctx, c)
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", s.base+"/v1/sse?streams="+url.QueryEscape(strings.Join(c.streams, ",")), nil)
	req.Header.Set("Last-Event-ID", strconv.FormatInt(cur, 10))
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sse: %s", resp.Status)
	}
	ready()
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if data, ok := strings.CutPrefix(string(line), "data: "); ok {
			c.record([]byte(data))
		}
	}
}

// longPoll follows the client's streams over /v1/poll from its cursor.
func (s *soakClients) longPoll(ctx context.Context, c *soakClient, ready func()) error {
	cur, err := s.startCursor(ctx, c)
	if err != nil {
		return err
	}
	ready()
	streams := url.QueryEscape(strings.Join(c.streams, ","))
	for ctx.Err() == nil {
		var ans struct {
			Cursor  int64             `json:"cursor"`
			Candles []json.RawMessage `json:"candles"`
		}
		if err := s.getJSON(ctx, fmt.Sprintf("/v1/poll?timeout=25s&streams=%s&cursor=%d", streams, cur), &ans); err != nil {
			return err
		}
		for _, m := range ans.Candles {
			c.record(m)
		}
		if ans.Cursor > 0 {
			cur = ans.Cursor
			c.mu.Lock()
			c.cursor = cur
			c.mu.Unlock()
		}
	}
	return ctx.Err()
}

func (s *soakClients) getJSON(ctx context.Context, path string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", s.base+path, nil)
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, body)
	}
	return json.Unmarshal(body, v)
}
