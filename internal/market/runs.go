package market

// RunLen is how many trades at the start of ts are of ts[0]'s market (0
// for none): a frame's trades of one market are then applied with one
// lookup. A loop, not an iterator, so that ts does not escape.
func RunLen(ts []Trade) int {
	n := min(len(ts), 1)
	for n < len(ts) && ts[n].Market == ts[0].Market {
		n++
	}
	return n
}
