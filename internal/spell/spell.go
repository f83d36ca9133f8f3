package spell

import "strings"

// Nearest is the candidate closest to name, or "" when none is close:
// one that name begins (market for markets), or one a few edits away,
// fewer for short names. Case is ignored; the first of equally close candidates
// wins.
func Nearest(name string, candidates []string) string {
	best, bestDist := "", 0
	lower := strings.ToLower(name)
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := Distance(lower, lc)
		if strings.HasPrefix(lc, lower) && lower != "" {
			d = min(d, 1)
		}
		if d <= max(1, len(c)/3) && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b: the fewest
// single-byte insertions, deletions and substitutions from one to the
// other.
func Distance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
