package bench

import (
	"encoding/json"
	"fmt"
	"io"
)

// Report writes res to w as indented JSON when asJSON, else as the table
// res prints, and then returns res's verdict: a bench whose check failed
// (markets incomplete, deliveries missing) is an error, so that the
// command exits non-zero.
func Report(w io.Writer, asJSON bool, res interface {
	Print(io.Writer)
	Err() error
}) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		res.Print(w)
	}
	return res.Err()
}

// Err is the bench's verdict: an error when a market is incomplete.
func (res CollectResult) Err() error {
	if res.Complete != res.Markets {
		return fmt.Errorf("%d of %d markets incomplete", res.Markets-res.Complete, res.Markets)
	}
	return nil
}

// Err is the soak's verdict: an error when a delivery is missing or none
// was expected.
func (r SoakResult) Err() error {
	if r.Missing > 0 || r.Expected == 0 {
		return fmt.Errorf("soak: %d of %d deliveries missing", r.Missing, r.Expected)
	}
	return nil
}

// Runs are the results of a fanout or transports bench.
type Runs []Result

// Print writes the runs as a table.
func (rs Runs) Print(w io.Writer) { PrintTable(w, rs) }

// Err is nil: a run that failed returned its error already.
func (rs Runs) Err() error { return nil }
