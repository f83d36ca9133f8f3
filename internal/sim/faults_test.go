package sim

import (
	"testing"
	"time"
)

// TestFaultsReachEveryConnection: a malformed, oversize or shutdown fault
// reaches each connection open when it is injected, once; one injected
// while none is open reaches the next to open; a connection that opens after
// another has noticed it does not get it again. Skip-final is one bin of the
// venue, whichever connection sends it.
func TestFaultsReachEveryConnection(t *testing.T) {
	type step struct {
		do   string // "open N", "inject KIND", "notice N KIND" (want true), "none N KIND" (want false)
		conn int
		kind string
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"each open connection once", []step{{"open", 0, ""}, {"open", 1, ""}, {"inject", 0, FaultMalformed},
			{"notice", 0, FaultMalformed}, {"none", 0, FaultMalformed}, {"notice", 1, FaultMalformed}, {"none", 1, FaultMalformed}}},
		{"none open: the next to open", []step{{"inject", 0, FaultOversize}, {"open", 0, ""},
			{"notice", 0, FaultOversize}, {"open", 1, ""}, {"none", 1, FaultOversize}}},
		{"two injections, two frames", []step{{"open", 0, ""}, {"inject", 0, FaultShutdown}, {"inject", 0, FaultShutdown},
			{"notice", 0, FaultShutdown}, {"notice", 0, FaultShutdown}, {"none", 0, FaultShutdown}}},
		{"kinds apart", []step{{"open", 0, ""}, {"inject", 0, FaultMalformed}, {"none", 0, FaultOversize}, {"notice", 0, FaultMalformed}}},
		{"another venue's", []step{{"open", 0, ""}, {"inject", 1, FaultMalformed}, {"none", 0, FaultMalformed}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaults(NewClock(time.Now().UnixMilli(), 1))
			marks := map[int]*Mark{}
			for i, s := range tc.steps {
				switch s.do {
				case "open":
					marks[s.conn] = f.Mark("binance")
				case "inject":
					venue := []string{"binance", "okx"}[s.conn]
					if err := f.Inject(venue, s.kind, 0); err != nil {
						t.Fatal(err)
					}
				case "notice", "none":
					if got := f.Notice(marks[s.conn], s.kind); got != (s.do == "notice") {
						t.Fatalf("step %d: connection %d noticed %s: %v", i, s.conn, s.kind, got)
					}
				}
			}
		})
	}
	f := newFaults(NewClock(time.Now().UnixMilli(), 1))
	f.Inject("binance", FaultSkipFinal, 0) //nolint:errcheck // a known kind
	if !f.Take("binance", FaultSkipFinal) || f.Take("binance", FaultSkipFinal) {
		t.Fatal("one skip-final must skip exactly one final bin of the venue")
	}
}
