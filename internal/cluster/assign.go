package cluster

import (
	"hash/fnv"
	"slices"

	"github.com/candlewire/candlewire/internal/market"
)

// Assignment is who collects each market: its owner, which alone spends
// the venue's REST budget on repair, and its standby, which collects it
// too. Both write; the store's merge makes the pair count once.
type Assignment map[market.Market]Pair

// Pair is a market's owner and standby ("" when the cluster has one
// collector).
type Pair struct{ Owner, Standby string }

// Assign gives each market an owner and a standby among nodes by
// rendezvous hashing: every node scores every market, the highest score
// owns it, the next stands by. Any node computes the same answer from the
// same members, markets spread evenly, and a node that joins or leaves
// moves only the markets it wins or held. pins limit a venue's or a
// market's candidates to named nodes (a market's pin before its venue's),
// while any of them is a member; otherwise every node is a candidate.
func Assign(markets []market.Market, nodes []string, pins map[string][]string) Assignment {
	out := Assignment{}
	for _, m := range markets {
		cands := nodes
		if pinned := live(pinsOf(m, pins), nodes); len(pinned) > 0 {
			cands = pinned
		}
		var p Pair
		var best, second uint64
		for _, n := range cands {
			switch s := score(n, m); {
			case p.Owner == "" || s > best:
				p.Standby, second, p.Owner, best = p.Owner, best, n, s
			case p.Standby == "" || s > second:
				p.Standby, second = n, s
			}
		}
		out[m] = p
	}
	return out
}

// Of returns the markets node collects (owns or stands by for) and those
// it owns, in the order of markets.
func (a Assignment) Of(node string, markets []market.Market) (collect, own []market.Market) {
	for _, m := range markets {
		switch p := a[m]; node {
		case p.Owner:
			collect, own = append(collect, m), append(own, m)
		case p.Standby:
			collect = append(collect, m)
		}
	}
	return collect, own
}

// Count is how many markets node owns and stands by for.
func (a Assignment) Count(node string) (owned, standby int) {
	for _, p := range a {
		switch node {
		case p.Owner:
			owned++
		case p.Standby:
			standby++
		}
	}
	return owned, standby
}

func pinsOf(m market.Market, pins map[string][]string) []string {
	if p, ok := pins[m.String()]; ok {
		return p
	}
	return pins[m.Venue]
}

// live are the pinned nodes that are members.
func live(pinned, nodes []string) []string {
	var out []string
	for _, n := range pinned {
		if slices.Contains(nodes, n) {
			out = append(out, n)
		}
	}
	return out
}

// score is node's rendezvous score for m.
func score(node string, m market.Market) uint64 {
	h := fnv.New64a()
	h.Write([]byte(node))
	h.Write([]byte{0})
	h.Write([]byte(m.String()))
	return mix(h.Sum64())
}

// mix spreads FNV's bits (its low bits vary little for similar inputs):
// the finalizer of MurmurHash3.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
