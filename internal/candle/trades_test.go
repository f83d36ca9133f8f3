package candle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

// TestTradesBatchesLikeTrade: trades applied in batches leave an engine as
// applying them one by one does (stats, time, forming candle, and what later
// events produce), and a batch returns the newest version of each bin the
// single calls produced, in the order they first produced them.
func TestTradesBatchesLikeTrade(t *testing.T) {
	t.Parallel()
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 7))
		o := Options{Unmergeable: r.IntN(3) == 0, NoCount: r.IntN(3) == 0}
		one, many := NewEngineWith(btc, o), NewEngineWith(btc, o)
		g := gen{r: r, ms: 60_000 + r.Int64N(60_000), seq: 1}
		for step := range 40 {
			if r.IntN(5) == 0 {
				b := g.bin()
				if got, want := briefs(many.Bin(b)), briefs(one.Bin(b)); got != want {
					t.Fatalf("seed %d step %d bin: got %s, want %s", seed, step, got, want)
				}
			} else {
				batch := g.trades(1 + r.IntN(6))
				var singles []market.Candle
				for _, tr := range batch {
					singles = append(singles, one.Trade(tr)...)
				}
				if got, want := briefs(many.Trades(batch)), briefs(newest(singles)); got != want {
					t.Fatalf("seed %d step %d, %d trades:\n got %s\nwant %s", seed, step, len(batch), got, want)
				}
			}
			c1, ok1 := one.Current()
			c2, ok2 := many.Current()
			if one.Stats() != many.Stats() || one.Now() != many.Now() || ok1 != ok2 || brief(c1) != brief(c2) {
				t.Fatalf("seed %d step %d: batched engine %+v %v %s, single %+v %v %s",
					seed, step, many.Stats(), ok2, brief(c2), one.Stats(), ok1, brief(c1))
			}
		}
	}
}

func TestTradesOfNone(t *testing.T) {
	t.Parallel()
	e := NewEngine(btc)
	if got := e.Trades(nil); got != nil {
		t.Fatalf("no trades produced %v", got)
	}
	e.Trade(tr(60_100, "10", "1", 5))
	if got := e.Trades([]market.Trade{tr(60_100, "10", "1", 5), tr(60_200, "10", "1", 4)}); got != nil {
		t.Fatalf("duplicates produced %s", briefs(got))
	}
}

// gen makes trades that mostly move on, sometimes repeat an id, arrive
// late or skip ids, and venue bins around them.
type gen struct {
	r   *rand.Rand
	ms  int64
	seq int64
}

func (g *gen) trades(n int) []market.Trade {
	ts := make([]market.Trade, n)
	for i := range ts {
		switch g.r.IntN(8) {
		case 0:
			g.seq -= g.r.Int64N(3) // a replayed id
		case 1:
			g.seq += 2 + g.r.Int64N(3) // missed ids
		default:
			g.seq++
		}
		g.ms += g.r.Int64N(25_000) - 2_000 // now and then a little back, or into the next minute
		p := fmt.Sprint(100 + g.r.IntN(9))
		ts[i] = tr(g.ms, p, fmt.Sprint(1+g.r.IntN(3)), max(g.seq, 1))
	}
	return ts
}

func (g *gen) bin() market.Candle {
	open := market.I1m.Truncate(g.ms) - market.I1m.Millis()*g.r.Int64N(2)
	st := market.Provisional
	if g.r.IntN(2) == 0 {
		st = market.Reconciled
	}
	p := fmt.Sprint(100 + g.r.IntN(9))
	return bin(open, p, "110", "99", p, fmt.Sprint(g.r.IntN(9)), int64(g.r.IntN(9)), g.seq-g.r.Int64N(2), st)
}

// newest keeps the last version of each bin in vs, in the order the bins
// first appear.
func newest(vs []market.Candle) []market.Candle {
	var out []market.Candle
	for _, v := range vs {
		if i := slices.IndexFunc(out, func(c market.Candle) bool { return c.OpenTime == v.OpenTime }); i >= 0 {
			out[i] = v
		} else {
			out = append(out, v)
		}
	}
	return out
}

func briefs(cs []market.Candle) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = brief(c)
	}
	return fmt.Sprint(s)
}
