package coinbase

import (
	"fmt"
	"slices"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

// ev is one tape input: a match, a last_match or a heartbeat.
type ev struct {
	kind  string // "m", "last", "hb"
	id    int64
	sec   int64 // exchange time, seconds
	price string
}

func m(id, sec int64, price string) ev    { return ev{"m", id, sec, price} }
func last(id, sec int64, price string) ev { return ev{"last", id, sec, price} }
func hb(id, sec int64) ev                 { return ev{"hb", id, sec, ""} }

// show renders a final as minute:o/h/l/c/v/n.
func show(c market.Candle) string {
	return fmt.Sprintf("%d:%s/%s/%s/%s/%s/%d", c.OpenTime/60_000, c.Open, c.High, c.Low, c.Close, c.Volume, c.Trades)
}

func TestTape(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   []ev
		want []string
	}{
		{"first minute joined mid-way is not final", []ev{m(10, 65, "5"), m(11, 70, "6"), m(12, 125, "7")}, nil},
		{"last_match anchors the next minute",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), m(11, 70, "6"), m(12, 125, "7")},
			[]string{"1:5/6/5/6/2/2"}},
		{"empty minutes between continuous ids are flat",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), m(11, 250, "7"), m(12, 310, "8")},
			[]string{"1:5/5/5/5/1/1", "2:5/5/5/5/0/0", "3:5/5/5/5/0/0", "4:7/7/7/7/1/1"}},
		{"a heartbeat with the last id settles the minute and empty ones",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), hb(10, 121), hb(10, 185)},
			[]string{"1:5/5/5/5/1/1", "2:5/5/5/5/0/0"}},
		{"a heartbeat inside the margin settles nothing",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), hb(10, 121)}, nil},
		{"a heartbeat ahead of the matches settles nothing",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), hb(11, 185)}, nil},
		{"an id gap leaves its minute to repair",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), m(12, 70, "6"), m(13, 125, "7"), m(14, 185, "8")},
			[]string{"2:7/7/7/7/1/1"}},
		{"an id gap across minutes leaves both",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), m(12, 125, "6"), m(13, 185, "7")}, nil},
		{"an old last_match makes no flat minutes before the first time seen",
			[]ev{last(9, 50, "4"), m(10, 6000, "5"), m(11, 6070, "6")},
			[]string{"100:5/5/5/5/1/1"}},
		{"nor does the first heartbeat after it",
			[]ev{last(9, 50, "4"), hb(9, 6000), hb(9, 6130), m(10, 6140, "5"), m(11, 6200, "6")},
			[]string{"99:4/4/4/4/0/0", "100:4/4/4/4/0/0", "101:4/4/4/4/0/0", "102:5/5/5/5/1/1"}},
		{"duplicates are ignored",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), m(10, 65, "5"), m(9, 50, "4"), m(11, 125, "7")},
			[]string{"1:5/5/5/5/1/1"}},
		{"a reconnect whose last_match is the last match keeps continuity",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), last(10, 65, "5"), m(11, 70, "3"), m(12, 125, "7")},
			[]string{"1:5/5/3/3/2/2"}},
		{"a reconnect whose last_match is the next match applies it",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), last(11, 70, "3"), m(12, 125, "7")},
			[]string{"1:5/5/3/3/2/2"}},
		{"a reconnect that missed trades restarts continuity after last_match",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), last(15, 130, "3"), m(16, 140, "8"), m(17, 190, "9")},
			nil},
		{"the minute after a missed stretch is whole again",
			[]ev{last(9, 50, "4"), m(10, 65, "5"), last(15, 130, "3"), m(16, 140, "8"), m(17, 190, "9"), m(18, 250, "1")},
			[]string{"3:9/9/9/9/1/1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newTape(Market("BTC-USD"))
			var out []market.Candle
			for _, e := range c.in {
				switch e.kind {
				case "hb":
					out = p.heartbeat(e.id, e.sec*1000, out)
				default:
					px := market.MustDecimal(e.price)
					tr := market.Trade{Market: p.m, Time: e.sec * 1000, Price: px, Size: market.MustDecimal("1"), Quote: px, FirstSeq: e.id, LastSeq: e.id}
					if e.kind == "last" {
						out, _ = p.lastMatch(tr, out)
					} else {
						out = p.match(tr, out)
					}
				}
			}
			var got []string
			for _, f := range out {
				if f.State != market.Reconciled {
					t.Errorf("final %s is %s", show(f), f.State)
				}
				got = append(got, show(f))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("finals %v, want %v", got, c.want)
			}
		})
	}
}
