package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

func TestHTTPRetryRules(t *testing.T) {
	cases := []struct {
		name     string
		statuses []int // answers in order; the last repeats
		header   string
		wantOK   bool
		wantHits int32
		minWait  time.Duration
	}{
		{"429 waits Retry-After", []int{429, 200}, "1", true, 2, time.Second},
		{"418 waits Retry-After", []int{418, 200}, "1", true, 2, time.Second},
		{"5xx is retried", []int{503, 500, 200}, "", true, 3, 0},
		{"400 is not retried", []int{400}, "", false, 1, 0},
		{"retries run out", []int{502}, "", false, 3, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(hits.Add(1)) - 1
				st := c.statuses[min(n, len(c.statuses)-1)]
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				w.WriteHeader(st)
				w.Write([]byte(`[]`))
			}))
			defer srv.Close()
			h := &HTTP{Venue: "test", Retries: 2, Backoff: Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond}}
			start := time.Now()
			_, _, err := h.Get(context.Background(), srv.URL, 1)
			if (err == nil) != c.wantOK || hits.Load() != c.wantHits || time.Since(start) < c.minWait {
				t.Fatalf("err=%v hits=%d after %v; want ok=%v hits=%d wait≥%v", err, hits.Load(), time.Since(start), c.wantOK, c.wantHits, c.minWait)
			}
			var se *StatusError
			if !c.wantOK && !errors.As(err, &se) {
				t.Fatalf("error %v does not carry the status", err)
			}
		})
	}
}

func TestHTTPOversizedBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 2048))
	}))
	defer srv.Close()
	h := &HTTP{Venue: "test", MaxBody: 1024}
	if _, _, err := h.Get(context.Background(), srv.URL, 1); err == nil {
		t.Fatal("an oversized body was accepted")
	}
}

func TestPaginate(t *testing.T) {
	t.Parallel()
	const m = 60_000
	rows := func(from, n int64) []market.Candle {
		var out []market.Candle
		for i := int64(0); i < n; i++ {
			out = append(out, market.Candle{OpenTime: (from + i) * m})
		}
		return out
	}
	cases := []struct {
		name    string
		page    PageFunc
		want    int
		wantErr bool
	}{
		{"pages of 3 up to 10", func(_ context.Context, c int64) ([]market.Candle, error) { return rows(c/m, 3), nil }, 10, false},
		{"venue runs out at 4", func(_ context.Context, c int64) ([]market.Candle, error) {
			if c >= 4*m {
				return nil, nil
			}
			return rows(c/m, 2), nil
		}, 4, false},
		{"venue does not advance", func(_ context.Context, c int64) ([]market.Candle, error) { return rows(0, 1), nil }, 1, true},
		{"error keeps what came before", func(_ context.Context, c int64) ([]market.Candle, error) {
			if c >= 3*m {
				return nil, errors.New("boom")
			}
			return rows(c/m, 3), nil
		}, 3, true},
	}
	for _, c := range cases {
		got, err := Paginate(context.Background(), 0, 10*m, c.page, nil)
		if len(got) != c.want || (err != nil) != c.wantErr {
			t.Errorf("%s: %d rows, err %v; want %d rows, error %v", c.name, len(got), err, c.want, c.wantErr)
		}
	}
}
