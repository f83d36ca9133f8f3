//go:build !linux

package bench

import "errors"

// Pin is supported on Linux only.
func Pin(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	return errors.New("pinning to CPUs is supported on Linux only")
}

// AllowedCPUs is not known on this system.
func AllowedCPUs() []int { return nil }
