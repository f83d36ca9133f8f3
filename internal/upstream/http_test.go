package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
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
