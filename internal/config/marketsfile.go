package config

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/candlewire/candlewire/internal/market"
)

// ReadMarketsFile reads a markets file: venue:SYMBOL markets, one or more
// a line (separated by spaces or commas), with blank lines and # comments
// ignored, as `candlewire markets VENUE --list` writes it. A market named
// twice, or one that is not venue:SYMBOL, is refused with its line.
func ReadMarketsFile(path string) ([]market.Market, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("markets file: %w", err)
	}
	defer f.Close()
	ms, err := ReadMarkets(f)
	if err != nil {
		return nil, fmt.Errorf("markets file %s: %w", path, err)
	}
	return ms, nil
}

// ReadMarkets reads a markets file's text (ReadMarketsFile).
func ReadMarkets(r io.Reader) ([]market.Market, error) {
	var out []market.Market
	seen := map[market.Market]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		for _, word := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			m, err := market.ParseMarket(word)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			if first, dup := seen[m]; dup {
				return nil, fmt.Errorf("line %d: %s is named twice (first on line %d)", n, m, first)
			}
			seen[m] = n
			out = append(out, m)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("names no market")
	}
	return out, nil
}
