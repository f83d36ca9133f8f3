package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

type noCounts struct{}

func (noCounts) GapsFoundOf(string) float64  { return 0 }
func (noCounts) GapsFilledOf(string) float64 { return 0 }
func (noCounts) ReconnectsOf(string) float64 { return 0 }
func (noCounts) BudgetLeft(string) float64   { return 0 }

// fakeCluster owns every market by one node.
type fakeCluster struct{ owner, standby string }

func (f fakeCluster) Owner(market.Market) (string, string) { return f.owner, f.standby }
func (f fakeCluster) Node() any                            { return map[string]string{"role": "gateway"} }

// TestStatusNamesCollectors: in a cluster /v1/status has the node and
// each market's owner and standby; alone it has neither.
func TestStatusNamesCollectors(t *testing.T) {
	ms := []market.Market{market.Default}
	for _, c := range []struct {
		name    string
		cl      Cluster
		node    bool
		owner   string
		standby string
	}{
		{"alone", nil, false, "", ""},
		{"cluster", fakeCluster{"c1", "c2"}, true, "c1", "c2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Status{Counts: noCounts{}, Store: store.NewMemory(nil), Markets: ms, Cluster: c.cl}.Handler()(rec, httptest.NewRequest("GET", "/v1/status", nil))
			var got struct {
				Node    map[string]string `json:"node"`
				Markets []struct{ Owner, Standby string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if (got.Node != nil) != c.node || len(got.Markets) != 1 || got.Markets[0].Owner != c.owner || got.Markets[0].Standby != c.standby {
				t.Fatalf("status %s", rec.Body.String())
			}
		})
	}
}

// fakeLinks has binance down since at, refused, retrying a second later.
type fakeLinks struct{ at time.Time }

func (f fakeLinks) Link(venue string) (upstream.Link, bool) {
	if venue != "binance" {
		return upstream.Link{Connected: true, Since: f.at}, true
	}
	return upstream.Link{Since: f.at, Reason: "the venue refused the connection (rate limited)", Retry: f.at.Add(time.Second)}, true
}

// TestStatusAndHealthShowVenueLinks: /v1/status and /healthz list each
// venue's connection, and for one without, since when, why and when it
// tries again; /healthz's reason says it too once the silence timeout
// has passed. A node without links (a gateway) lists none.
func TestStatusAndHealthShowVenueLinks(t *testing.T) {
	at := time.Now().Add(-time.Minute)
	ms := []market.Market{market.Default, {Venue: "okx", Symbol: "BTC-USDT"}, {Venue: "binance", Symbol: "ETHUSDT"}}
	want := []venueLink{
		{Venue: "binance", Since: at.UnixMilli(), Reason: "the venue refused the connection (rate limited)", RetryAt: at.Add(time.Second).UnixMilli()},
		{Venue: "okx", Connected: true, Since: at.UnixMilli()},
	}
	for _, c := range []struct {
		name  string
		links Links
		want  []venueLink
	}{
		{"collector", fakeLinks{at}, want},
		{"gateway", nil, []venueLink{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got struct{ Venues []venueLink }
			rec := httptest.NewRecorder()
			Status{Counts: noCounts{}, Links: c.links, Store: store.NewMemory(nil), Markets: ms}.Handler()(rec, httptest.NewRequest("GET", "/v1/status", nil))
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || !reflect.DeepEqual(got.Venues, c.want) {
				t.Fatalf("status venues %+v (%v), want %+v", got.Venues, err, c.want)
			}
			fake := &world{now: at}
			h := newHealth(store.NewMemory(nil), ms, map[string]VenueWatch{"binance": {Silence: 30 * time.Second}, "okx": {Silence: 30 * time.Second}},
				func() reading { return reading{connected: map[string]bool{"okx": true}} }, fake.clock)
			h.links = c.links
			fake.add(time.Minute)
			rep := h.check(context.Background())
			if !reflect.DeepEqual(rep.Venues, c.want) {
				t.Fatalf("healthz venues %+v, want %+v", rep.Venues, c.want)
			}
			reason := "venue binance: no connection for 1m0s (silence timeout 30s)"
			if c.links != nil {
				reason += ": the venue refused the connection (rate limited); next attempt in 0s"
			}
			if !slices.Contains(rep.Reasons, reason) {
				t.Fatalf("healthz reasons %q, want %q", rep.Reasons, reason)
			}
		})
	}
}
