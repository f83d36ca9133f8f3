//go:build !linux

package bench

import "context"

// epollWS falls back to a goroutine per client off Linux.
func (c *clients) epollWS(ctx context.Context, n int) (int, func()) { return c.goroutines(ctx, n) }
