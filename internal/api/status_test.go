package api

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
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
			StatusHandler(noCounts{}, store.NewMemory(nil), ms, nil, c.cl)(rec, httptest.NewRequest("GET", "/v1/status", nil))
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
