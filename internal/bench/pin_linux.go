package bench

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Pin keeps every thread of this process on cpus (sched_setaffinity), and
// the threads it starts later too (they inherit it), with GOMAXPROCS set to
// their number. No cpus means no pinning.
func Pin(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	for range 2 { // a thread started during the first pass is caught by the second
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("pin to CPUs %v: %w", cpus, err)
		}
		for _, t := range tasks {
			tid, _ := strconv.Atoi(t.Name())
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin to CPUs %v: %w", cpus, err)
			}
		}
	}
	runtime.GOMAXPROCS(len(cpus))
	return nil
}

// AllowedCPUs is the CPUs this process may run on as it started, before
// any Pin (the first call reads them): a child process given them runs
// where an unpinned one would, not on the CPUs its parent was pinned to.
func AllowedCPUs() []int { return startCPUs() }

var startCPUs = sync.OnceValue(func() []int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return nil
	}
	var out []int
	for c := range 1024 {
		if set.IsSet(c) {
			out = append(out, c)
		}
	}
	return out
})
