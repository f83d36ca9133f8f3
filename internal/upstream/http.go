package upstream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/candlewire/candlewire/internal/metrics"
)

// HTTP makes a venue's REST requests within its rate limit. It waits out
// Retry-After on 429 and 418, retries 5xx and network errors with backoff,
// and caps response sizes. Safe for concurrent use.
type HTTP struct {
	Venue   string
	Client  *http.Client     // nil means a client with a 30s timeout
	Limiter *rate.Limiter    // request weight per second; nil means unlimited
	Retries int              // attempts after the first; 0 means 5, negative none
	Backoff Backoff          // waits between retries
	MaxBody int64            // largest response accepted; 0 means 32 MiB
	Logger  *slog.Logger     // nil means discard
	Metrics *metrics.Metrics // nil means discard
}

// StatusError is a REST response the venue refused for good (4xx other
// than 429/418, or retries used up).
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

var defaultClient = &http.Client{Timeout: 30 * time.Second}

// Get fetches url, spending weight units of the rate limit per attempt. It
// returns the body and headers of the first 2xx response.
func (h *HTTP) Get(ctx context.Context, url string, weight int) ([]byte, http.Header, error) {
	retries := h.Retries
	switch {
	case retries == 0:
		retries = 5
	case retries < 0:
		retries = 0
	}
	var last error
	for attempt := 0; attempt <= retries; attempt++ {
		if h.Limiter != nil {
			if err := h.Limiter.WaitN(ctx, weight); err != nil {
				return nil, nil, fmt.Errorf("GET %s: wait for rate limit: %w", url, err)
			}
		}
		body, hdr, wait, err := h.once(ctx, url)
		if err == nil {
			return body, hdr, nil
		}
		last = err
		if wait < 0 {
			return nil, nil, fmt.Errorf("GET %s: %w", url, err)
		}
		if wait == 0 {
			wait = h.Backoff.Delay(attempt)
		}
		h.logger().Warn("REST request failed; retrying", "venue", h.Venue, "url", url, "err", err, "wait", wait)
		if err := Sleep(ctx, wait); err != nil {
			return nil, nil, fmt.Errorf("GET %s: %w", url, err)
		}
	}
	return nil, nil, fmt.Errorf("GET %s: giving up after %d attempts: %w", url, retries+1, last)
}

func (h *HTTP) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// once makes one attempt. wait < 0: do not retry; 0: retry with backoff;
// > 0: retry after that long.
func (h *HTTP) once(ctx context.Context, url string) ([]byte, http.Header, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, -1, err
	}
	client := h.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		h.count("error")
		if ctx.Err() != nil {
			return nil, nil, -1, err
		}
		return nil, nil, 0, err
	}
	defer resp.Body.Close()
	h.count(strconv.Itoa(resp.StatusCode))
	maxBody := h.MaxBody
	if maxBody <= 0 {
		maxBody = 32 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	switch {
	case err != nil:
		return nil, nil, 0, fmt.Errorf("read body: %w", err)
	case int64(len(body)) > maxBody:
		return nil, nil, -1, fmt.Errorf("response larger than %d bytes", maxBody)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusTeapot:
		return nil, nil, RetryAfter(resp.Header, 10*time.Second), &StatusError{resp.StatusCode, snippet(body)}
	case resp.StatusCode >= 500:
		return nil, nil, 0, &StatusError{resp.StatusCode, snippet(body)}
	case resp.StatusCode/100 != 2:
		return nil, nil, -1, &StatusError{resp.StatusCode, snippet(body)}
	}
	return body, resp.Header, 0, nil
}

func (h *HTTP) count(status string) {
	if h.Metrics != nil {
		h.Metrics.RESTRequests.WithLabelValues(h.Venue, status).Inc()
	}
}

func snippet(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
