package export

import (
	"bufio"
	"context"
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// TestStream: every stored candle of the range, across several pages,
// once each and in order, as CSV with one header or as JSON lines.
func TestStream(t *testing.T) {
	st := store.NewMemory(nil)
	p := market.MustDecimal("1")
	var cs []market.Candle
	const n = 2*pageRows + 7
	for i := range n {
		cs = append(cs, market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: int64(i) * 60_000,
			Open: p, High: p, Low: p, Close: p, State: market.Reconciled, Source: market.SourceREST})
	}
	if _, err := st.Upsert(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"csv", "jsonl", "text"} {
		t.Run(format, func(t *testing.T) {
			var b strings.Builder
			w := bufio.NewWriter(&b)
			if err := Stream(context.Background(), st, market.Default, market.I1m, 60_000, 1<<62, Writer(w, format)); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			want := n - 1 // from the second minute
			if format == "csv" {
				want++ // the header
			}
			if len(lines) != want {
				t.Fatalf("%d lines, want %d", len(lines), want)
			}
			first := map[string]string{"csv": "binance,BTCUSDT,1m,60000,1,1,1,1", "jsonl": `"t":60000`,
				"text": "1970-01-01T00:01:00Z binance:BTCUSDT 1m  o=1 h=1 l=1 c=1 v=0 n=0 reconciled rev=1 (rest)"}[format]
			if i := map[bool]int{true: 1}[format == "csv"]; !strings.Contains(lines[i], first) {
				t.Errorf("first candle %s, want %s", lines[i], first)
			}
		})
	}
}
