package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/metrics"
)

// Session runs one connected session: subscribe, then read until the
// connection fails or ctx ends. It returns why it ended.
type Session func(ctx context.Context, conn *Conn) error

// Config is how Run connects. The zero value of each field means its
// documented default.
type Config struct {
	Venue       string           // for logs and metrics
	Budget      *Budget          // required: connect budget shared by the venue
	Backoff     Backoff          // retry waits
	MaxFrame    int64            // largest frame accepted; 0 means 1 MiB
	MaxLifetime time.Duration    // redial before this age (e.g. Binance's 24h cut); 0 means never
	Healthy     time.Duration    // a session this long resets the backoff; 0 means 30s
	HTTPClient  *http.Client     // nil means http.DefaultClient
	Tap         Tap              // nil, or sees every frame (candlewire record)
	Logger      *slog.Logger     // nil means discard
	Metrics     *metrics.Metrics // nil means discard
	Links       *Links           // nil, or keeps whether it is connected, why not and when it retries
}

// ForVenue returns c for a venue feed: Venue set, and the defaults a feed
// reads before Run does: a connect budget of connects per window, a
// discarding logger and discarding metrics.
func (c Config) ForVenue(venue string, connects int, window time.Duration) Config {
	c.Venue = venue
	if c.Budget == nil {
		c.Budget = NewBudget(connects, window, nil)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = metrics.Discard()
	}
	return c
}

// RetryAfterError asks Run to wait at least After before redialling, as a
// venue asked (HTTP 429 on the upgrade, BitMEX 429 retryAfter).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// ErrRedial ends a session that should be redialled at once, without backoff:
// a planned server shutdown or the end of the connection's lifetime.
var ErrRedial = errors.New("planned reconnect")

// Run dials url and runs session on each connection until ctx ends. It
// never returns before ctx ends except for a configuration error.
func Run(ctx context.Context, cfg Config, url string, session Session) error {
	if cfg.Budget == nil {
		return fmt.Errorf("upstream %s: no connect budget", cfg.Venue)
	}
	r := runner{cfg: cfg, url: url, down: "connecting", link: cfg.Links.open()}
	r.defaults()
	defer cfg.Links.close(cfg.Venue, r.link)
	for attempt := 0; ; {
		r.cfg.Links.set(cfg.Venue, r.link, false, r.down, time.Time{})
		wait, ok := r.once(ctx, session)
		if ctx.Err() != nil {
			return nil
		}
		if ok {
			attempt = 0
		}
		if wait < 0 {
			wait = r.cfg.Backoff.Delay(attempt)
			attempt++
		}
		r.cfg.Links.set(cfg.Venue, r.link, false, r.down, time.Now().Add(wait))
		if err := Sleep(ctx, wait); err != nil {
			return nil
		}
	}
}

type runner struct {
	cfg     Config
	url     string
	lastErr string // the last failure logged at warn level
	down    string // why there is no connection, for Links
	link    int    // its number in Links
}

func (r *runner) defaults() {
	if r.cfg.MaxFrame <= 0 {
		r.cfg.MaxFrame = 1 << 20
	}
	if r.cfg.Healthy <= 0 {
		r.cfg.Healthy = 30 * time.Second
	}
	if r.cfg.Logger == nil {
		r.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if r.cfg.Metrics == nil {
		r.cfg.Metrics = metrics.Discard()
	}
	r.cfg.Metrics.WatchBudget(r.cfg.Venue, r.cfg.Budget)
}

// once makes one connection and runs one session. It returns the wait
// before the next attempt (negative: use the backoff) and whether the
// session was healthy.
func (r *runner) once(ctx context.Context, session Session) (time.Duration, bool) {
	venue := r.cfg.Venue
	err := r.cfg.Budget.Wait(ctx, func(d time.Duration) {
		r.cfg.Logger.Warn("connect budget used up; waiting", "venue", venue, "budget", r.cfg.Budget.String(), "wait", d.Round(time.Second))
		r.cfg.Links.set(venue, r.link, false, "connect budget used up ("+r.cfg.Budget.String()+")", time.Now().Add(d))
	})
	if err != nil {
		return 0, false
	}
	var c *Conn // made before the session reads, so before any ping
	conn, err := r.dial(ctx, func() { c.hear() })
	if err != nil {
		return r.failed(ctx, err), false
	}
	r.cfg.Metrics.Connects.WithLabelValues(venue, "ok").Inc()
	r.cfg.Metrics.Connected.WithLabelValues(venue).Inc()
	defer r.cfg.Metrics.Connected.WithLabelValues(venue).Dec()
	r.lastErr = ""
	r.cfg.Links.set(venue, r.link, true, "", time.Time{})
	r.cfg.Logger.Info("connected", "venue", venue, "url", r.url)
	start := time.Now()
	err = r.session(ctx, conn, &c, session)
	healthy := time.Since(start) >= r.cfg.Healthy
	if ctx.Err() != nil {
		return 0, healthy
	}
	r.ended(err, start)
	var ra *RetryAfterError
	switch {
	case errors.Is(err, ErrRedial):
		return 0, true
	case errors.As(err, &ra):
		return ra.After, false
	}
	return -1, healthy
}

// session runs session on conn (as *c, which pings reach), within the
// connection's lifetime, and closes conn; it returns why it ended.
func (r *runner) session(ctx context.Context, conn *websocket.Conn, c **Conn, session Session) error {
	sctx, cancel := ctx, context.CancelFunc(func() {})
	if r.cfg.MaxLifetime > 0 {
		sctx, cancel = context.WithTimeoutCause(ctx, r.cfg.MaxLifetime, ErrRedial)
	}
	var tap ConnTap
	if r.cfg.Tap != nil {
		tap = r.cfg.Tap.Open(r.url, time.Now())
	}
	*c = NewConn(conn, tap)
	err := session(sctx, *c)
	if tap != nil {
		tap.Close()
	}
	cancel()
	if context.Cause(sctx) == ErrRedial && ctx.Err() == nil {
		err = fmt.Errorf("connection lifetime %s reached: %w", r.cfg.MaxLifetime, ErrRedial)
	}
	closeConn(conn, err)
	return err
}

// ended counts and logs a session's end.
func (r *runner) ended(err error, start time.Time) {
	venue := r.cfg.Venue
	reason := classify(err)
	r.down = "connection lost (" + reason + ")"
	r.cfg.Metrics.Reconnects.WithLabelValues(venue, reason).Inc()
	r.cfg.Logger.Warn("disconnected; reconnecting", "venue", venue, "reason", reason, "err", err, "lasted", time.Since(start).Round(time.Millisecond))
}

// dial connects; onPing runs on every ping frame from the server (while
// the session reads).
func (r *runner) dial(ctx context.Context, onPing func()) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPClient: r.cfg.HTTPClient,
		OnPingReceived: func(context.Context, []byte) bool { onPing(); return true }}
	conn, resp, err := websocket.Dial(dctx, r.url, opts)
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusTeapot) {
			return nil, &RetryAfterError{After: retryAfter(resp.Header, 5*time.Second),
				Err: fmt.Errorf("dial %s: refused with HTTP %d", r.url, resp.StatusCode)}
		}
		return nil, fmt.Errorf("dial %s: %w", r.url, err)
	}
	conn.SetReadLimit(r.cfg.MaxFrame)
	return conn, nil
}

// failed logs a connect failure once per distinct cause (so an offline
// machine gets one clear line, not a line per retry) and returns the wait.
func (r *runner) failed(ctx context.Context, err error) time.Duration {
	if ctx.Err() != nil {
		return 0
	}
	result := "error"
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		result = "refused"
	}
	r.cfg.Metrics.Connects.WithLabelValues(r.cfg.Venue, result).Inc()
	why := describe(err)
	r.down = why
	if why != r.lastErr {
		r.cfg.Logger.Warn("cannot connect; retrying within the connect budget", "venue", r.cfg.Venue,
			"why", why, "err", err, "budget", r.cfg.Budget.String())
		r.lastErr = why
	} else {
		r.cfg.Logger.Debug("connect failed again", "venue", r.cfg.Venue, "err", err)
	}
	if ra != nil {
		return ra.After
	}
	return -1
}

// Offline says, when err comes from a name that does not resolve, what
// that means for a user: no network, and --sim runs without one.
func Offline(err error) (string, bool) {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "cannot resolve " + dns.Name + ": no network or DNS (use --sim to run offline)", true
	}
	return "", false
}

// describe turns a dial error into a short human cause.
func describe(err error) string {
	var op *net.OpError
	var ra *RetryAfterError
	offline, isOffline := Offline(err)
	switch {
	case errors.As(err, &ra):
		return "the venue refused the connection (rate limited)"
	case isOffline:
		return offline
	case errors.As(err, &op) && op.Op == "dial":
		return "cannot reach the venue: " + op.Err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "connect timed out"
	}
	return "connect failed"
}

// classify names why a session ended, for the reconnect metric.
func classify(err error) string {
	var ra *RetryAfterError
	switch {
	case errors.Is(err, ErrRedial):
		return "planned"
	case errors.As(err, &ra):
		return "rate-limited"
	case errors.Is(err, ErrSilent):
		return "silent"
	case errors.Is(err, websocket.ErrMessageTooBig), websocket.CloseStatus(err) == websocket.StatusMessageTooBig:
		return "oversized-frame"
	case websocket.CloseStatus(err) != -1:
		return "closed-by-server"
	}
	return "read-error"
}

func closeConn(conn *websocket.Conn, err error) {
	if errors.Is(err, ErrRedial) || errors.Is(err, context.Canceled) {
		conn.Close(websocket.StatusNormalClosure, "") //nolint:errcheck // best effort on the way out
		return
	}
	conn.CloseNow() //nolint:errcheck // the connection is already broken
}

func retryAfter(h http.Header, def time.Duration) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return def
}

// RetryAfter parses an HTTP Retry-After header in seconds, or returns def.
func RetryAfter(h http.Header, def time.Duration) time.Duration { return retryAfter(h, def) }

// SlowFrame counts a trade or candle frame that the venue decoder's fast
// path left to its full decoder (candlewire_upstream_fast_path_misses_total)
// and says so in the log: the venue sends the kind in a form the fast path
// does not know (a new field, another order), which costs CPU, not data.
// The warning is the same record for every frame of a venue and kind, so
// the process's repeat summary (logdedup) folds a run of them into one
// line; the frame itself is logged at debug level.
func (c Config) SlowFrame(kind string, frame []byte) {
	c.Metrics.SlowFrames.WithLabelValues(c.Venue, kind).Inc()
	c.Logger.Warn("frame missed the decoder's fast path", "venue", c.Venue, "kind", kind)
	if c.Logger.Enabled(context.Background(), slog.LevelDebug) {
		c.Logger.Debug("frame missed the decoder's fast path", "venue", c.Venue, "kind", kind, "frame", string(frame[:min(len(frame), 512)]))
	}
}
