//go:build !linux

package bench

import "context"

// epollWS: the soak's WebSocket clients need epoll (Linux); elsewhere none
// connect.
func (s *soakClients) epollWS(ctx context.Context) (int, func()) { return 0, func() {} }
