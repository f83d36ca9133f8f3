package market

import "iter"

// Runs yields ts in runs of consecutive trades of one market, in order: a
// frame's trades of one market are then applied with one lookup.
func Runs(ts []Trade) iter.Seq[[]Trade] {
	return func(yield func([]Trade) bool) {
		for len(ts) > 0 {
			n := 1
			for n < len(ts) && ts[n].Market == ts[0].Market {
				n++
			}
			if !yield(ts[:n]) {
				return
			}
			ts = ts[n:]
		}
	}
}
