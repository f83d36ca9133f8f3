package sim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestAdminFaultEndpoint(t *testing.T) {
	s := New(Config{Seed: 1, Speed: 1})
	srv := httptest.NewServer(s)
	defer srv.Close()
	cases := []struct {
		query  string
		status int
	}{
		{"venue=binance&kind=refuse&for=1h", 200},
		{"venue=binance&kind=explode", 400},
		{"venue=binance&kind=silence&for=soon", 400},
	}
	for _, c := range cases {
		resp, err := http.Post(srv.URL+"/admin/fault?"+c.query, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.query, resp.StatusCode, body, c.status)
		}
	}
	if !s.Faults.Active("binance", FaultRefuse) || s.Faults.Active("bitmex", FaultRefuse) {
		t.Fatal("the fault did not take effect on exactly its venue")
	}
}

func TestParseScheduled(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Scheduled
		bad  bool
	}{
		{in: "binance:drop@2m", want: Scheduled{Venue: "binance", Kind: "drop", At: 2 * time.Minute}},
		{in: "bitmex:silence@5m+30s", want: Scheduled{Venue: "bitmex", Kind: "silence", At: 5 * time.Minute, For: 30 * time.Second}},
		{in: "drop@2m", bad: true},
		{in: "binance:drop", bad: true},
		{in: "binance:drop@soon", bad: true},
	}
	for _, c := range cases {
		got, err := ParseScheduled(c.in)
		if (err != nil) != c.bad || (!c.bad && got != c.want) {
			t.Errorf("ParseScheduled(%q) = %+v, %v", c.in, got, err)
		}
	}
}

// TestRunSchedule injects scheduled faults at their simulated offsets.
func TestRunSchedule(t *testing.T) {
	s := New(Config{Seed: 1, Speed: 600})
	drop := s.Faults.Dropped("binance")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	go s.RunSchedule(ctx, []Scheduled{{Venue: "binance", Kind: FaultDrop, At: 5 * time.Minute}, {Venue: "binance", Kind: "bogus", At: time.Minute}})
	select {
	case <-drop:
	case <-ctx.Done():
		t.Fatal("the scheduled drop never happened")
	}
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("a drop scheduled 5 simulated minutes in (0.5 s at 600×) came after %v", el)
	}
}

func TestTradesEndpointUnknown(t *testing.T) {
	s := New(Config{Seed: 1})
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/admin/trades?venue=nope&symbol=X")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
