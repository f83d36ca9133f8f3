package hub

import "github.com/candlewire/candlewire/internal/market"

// Stream is one market's candles of one interval, MARKET@INTERVAL.
type Stream = market.Series

// StreamOf returns the stream a candle belongs to.
func StreamOf(c market.Candle) Stream { return market.SeriesOf(c) }
