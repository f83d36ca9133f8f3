package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/upstream"
)

// Transports are the four transports a client can use.
var Transports = []string{"ws", "sse", "longpoll", "poll"}

// ClientResult is what the client process reports.
type ClientResult struct {
	Connected  int     `json:"connected"`
	Deliveries int64   `json:"deliveries"`
	Errors     int64   `json:"errors"`
	P50us      int64   `json:"p50_us"`
	P99us      int64   `json:"p99_us"`
	MaxUs      int64   `json:"max_us"`
	MeanUs     float64 `json:"mean_us"`
	// Arrival: publish to the kernel's receive timestamp in the client's
	// socket (WebSocket clients on Linux only; zero otherwise).
	ArrP50us  int64 `json:"arrival_p50_us,omitempty"`
	ArrP99us  int64 `json:"arrival_p99_us,omitempty"`
	ArrMaxUs  int64 `json:"arrival_max_us,omitempty"`
	WireBytes int64 `json:"wire_bytes"` // read and written by the clients' sockets while measuring
	CPUus     int64 `json:"cpu_us"`     // the client process's CPU while measuring
}

// clients is the client side: n clients of one transport, counting what
// arrives while measuring is on.
type clients struct {
	base      string
	transport string
	http      *http.Client
	measuring atomic.Bool
	quiet     atomic.Bool // between parts: pollers send no requests
	mu        sync.Mutex
	lat       []int32 // microseconds
	arr       []int32 // microseconds to arrival in the socket, where known
	delivered atomic.Int64
	errors    atomic.Int64
	wire      atomic.Int64 // bytes on the clients' sockets while measuring
}

// RunClients connects n clients of a transport to base, writes "ready N"
// on out when all are connected, then obeys the lines read from in (see
// command): the measured time may come in parts, counted between "go" and
// "pause" or "stop"; at "stop" it writes a ClientResult as JSON.
func RunClients(ctx context.Context, base, transport string, n int, in io.Reader, out io.Writer) error {
	if !slices.Contains(Transports, transport) {
		return fmt.Errorf("unknown transport %q (want one of %v)", transport, Transports)
	}
	c := &clients{base: base, transport: transport}
	c.http = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n + 10, DialContext: c.dial}}
	defer c.http.CloseIdleConnections()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wait func()
	var connected int
	if transport == "ws" {
		connected, wait = c.epollWS(ctx, n)
	} else {
		connected, wait = c.goroutines(ctx, n)
	}
	fmt.Fprintf(out, "ready %d\n", connected)
	sc := bufio.NewScanner(in)
	var spent clientCPU
	for sc.Scan() {
		if c.command(sc.Text(), &spent, out) {
			cancel()
			wait()
			r := c.result(connected)
			r.CPUus = spent.used.Microseconds()
			return json.NewEncoder(out).Encode(r)
		}
	}
	return sc.Err()
}

// clientCPU is the client process's CPU while counting.
type clientCPU struct{ from, used time.Duration }

// command obeys one line; it reports whether it was "stop".
//
//   - "go": count from now on, and resume polling; answers "going".
//   - "count": answers "count DELIVERIES WIRE_BYTES", the counts so far.
//   - "pause": stop counting, and polling; answers "paused DELIVERIES
//     WIRE_BYTES".
//   - "stop": stop counting.
func (c *clients) command(line string, spent *clientCPU, out io.Writer) bool {
	switch line {
	case "go":
		spent.from = cpu()
		c.quiet.Store(false)
		c.measuring.Store(true)
		fmt.Fprintln(out, "going")
	case "count":
		fmt.Fprintf(out, "count %d %d\n", c.delivered.Load(), c.wire.Load())
	case "pause", "stop":
		if c.measuring.Swap(false) {
			spent.used += cpu() - spent.from
		}
		c.quiet.Store(true)
		if line == "stop" {
			return true
		}
		fmt.Fprintf(out, "paused %d %d\n", c.delivered.Load(), c.wire.Load())
	}
	return false
}

// goroutines runs each client in a goroutine of its own; it returns how
// many connected, and a func that waits for them to end after ctx does.
func (c *clients) goroutines(ctx context.Context, n int) (int, func()) {
	var wg sync.WaitGroup
	connected := 0
	sem := make(chan struct{}, 100) // dial concurrency, under the listen backlog
	for range n {
		sem <- struct{}{}
		wg.Add(1)
		ready := make(chan struct{})
		go func() {
			defer wg.Done()
			if err := c.run(ctx, ready); err != nil && ctx.Err() == nil {
				c.errors.Add(1)
			}
		}()
		select {
		case <-ready:
			connected++
		case <-time.After(10 * time.Second):
		}
		<-sem
	}
	return connected, wg.Wait
}

func (c *clients) result(connected int) ClientResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := ClientResult{Connected: connected, Deliveries: c.delivered.Load(), Errors: c.errors.Load(), WireBytes: c.wire.Load()}
	if len(c.lat) == 0 {
		return r
	}
	sum := 0.0
	for _, l := range c.lat {
		sum += float64(l)
	}
	r.P50us, r.P99us, r.MaxUs = quantiles(c.lat)
	r.MeanUs = sum / float64(len(c.lat))
	if len(c.arr) > 0 {
		r.ArrP50us, r.ArrP99us, r.ArrMaxUs = quantiles(c.arr)
	}
	return r
}

// quantiles sorts lat and returns its median, 99th percentile and maximum.
func quantiles(lat []int32) (p50, p99, maxi int64) {
	slices.Sort(lat)
	return int64(lat[len(lat)/2]), int64(lat[len(lat)*99/100]), int64(lat[len(lat)-1])
}

// seen records the candles of a message.
func (c *clients) seen(msg []byte) {
	if !c.measuring.Load() {
		return
	}
	var lat []int32
	lat = latencies(msg, time.Now().UnixMicro(), lat)
	c.delivered.Add(int64(len(lat)))
	c.mu.Lock()
	c.lat = append(c.lat, lat...)
	c.mu.Unlock()
}

// latencies appends the latency of each candle in msg: its "n" is the
// publish time in µs.
func latencies(msg []byte, now int64, lat []int32) []int32 {
	for {
		i := bytes.Index(msg, []byte(`"n":`))
		if i < 0 {
			return lat
		}
		msg = msg[i+4:]
		j := 0
		for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
			j++
		}
		if sent, err := strconv.ParseInt(string(msg[:j]), 10, 64); err == nil && sent > 0 {
			lat = append(lat, int32(min(now-sent, 1<<31-1)))
		}
	}
}

// dial opens a client socket that counts its bytes while measuring.
func (c *clients) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: c}, nil
}

// countingConn counts the bytes of a client socket.
type countingConn struct {
	net.Conn
	c *clients
}

func (cc *countingConn) Read(b []byte) (int, error) {
	n, err := cc.Conn.Read(b)
	if cc.c.measuring.Load() {
		cc.c.wire.Add(int64(n))
	}
	return n, err
}

func (cc *countingConn) Write(b []byte) (int, error) {
	n, err := cc.Conn.Write(b)
	if cc.c.measuring.Load() {
		cc.c.wire.Add(int64(n))
	}
	return n, err
}

func (c *clients) run(ctx context.Context, ready chan<- struct{}) error {
	switch c.transport {
	case "ws":
		return c.ws(ctx, ready)
	case "sse":
		return c.sse(ctx, ready)
	}
	return c.poll(ctx, ready)
}

func (c *clients) ws(ctx context.Context, ready chan<- struct{}) error {
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/v1/ws", &websocket.DialOptions{HTTPClient: c.http})
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	sub := fmt.Sprintf(`{"op":"subscribe","id":1,"streams":[%q],"snapshot":0}`, Stream.String())
	if err := conn.Write(ctx, websocket.MessageText, []byte(sub)); err != nil {
		return err
	}
	if _, _, err := conn.Read(ctx); err != nil { // the ack
		return err
	}
	close(ready)
	for {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		c.seen(msg)
	}
}

func (c *clients) sse(ctx context.Context, ready chan<- struct{}) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/v1/sse?snapshot=0&streams="+url.QueryEscape(Stream.String()), nil)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	close(ready)
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if bytes.HasPrefix(line, []byte("data: ")) {
			c.seen(line)
		}
	}
}

// poll is long polling (/v1/poll) or plain polling once a second
// (/v1/candles?since=), each from the cursor of the last answer.
func (c *clients) poll(ctx context.Context, ready chan<- struct{}) error {
	cursor, err := c.get(ctx, fmt.Sprintf("/v1/candles?limit=1&market=%s", url.QueryEscape(Stream.Market.String())), false)
	if err != nil {
		return err
	}
	close(ready)
	for ctx.Err() == nil {
		if c.waitQuiet(ctx) != nil {
			return nil
		}
		path := fmt.Sprintf("/v1/poll?timeout=25s&streams=%s&cursor=%d", url.QueryEscape(Stream.String()), cursor)
		if c.transport == "poll" {
			path = fmt.Sprintf("/v1/candles?market=%s&since=%d", url.QueryEscape(Stream.Market.String()), cursor)
		}
		if cursor, err = c.get(ctx, path, true); err != nil {
			return err
		}
		if c.transport == "poll" {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// waitQuiet returns once the clients are not between parts, or ctx ends.
func (c *clients) waitQuiet(ctx context.Context) error {
	for c.quiet.Load() {
		if err := upstream.Sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// get fetches a JSON answer and returns its cursor; record counts its
// candles as deliveries.
func (c *clients) get(ctx context.Context, path string, record bool) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	var head struct {
		Cursor int64 `json:"cursor"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return 0, fmt.Errorf("%s: %s", path, body)
	}
	if record {
		c.seen(body)
	}
	return head.Cursor, nil
}
