//go:build !linux

package uring

import "errors"

// Ring is not available on this system.
type Ring struct{}

// New fails: io_uring is Linux's.
func New(entries int) (*Ring, error) { return nil, errors.ErrUnsupported }

// Entries is 0.
func (r *Ring) Entries() int { return 0 }

// Send is never called: New failed.
func (r *Ring) Send(fds []int, bufs [][]byte, res []int32) error { return errors.ErrUnsupported }

// Close does nothing.
func (r *Ring) Close() error { return nil }

// Available is false: io_uring is Linux's.
func Available() bool { return false }
