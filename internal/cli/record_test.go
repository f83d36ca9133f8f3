package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/binance"
	"github.com/candlewire/candlewire/internal/exchange/okx"
	"github.com/candlewire/candlewire/internal/record"
)

// TestRecordFromSim records two venues from the simulator for five
// seconds (at 60x, hundreds of frames a connection; a loaded machine once
// left 2 s at 30x with one frame on a connection): it prints a file per connection (OKX has two), each starts with
// its connect line, and every frame received decodes with the venue's own
// decoder.
func TestRecordFromSim(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	code := Main(context.Background(), []string{"record", "--sim", "--sim-speed", "60", "--markets", "binance:BTCUSDT,okx:BTC-USDT",
		"--dir", dir, "--duration", "5s", "--log", "error"}, &out, io.Discard)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	files := strings.Fields(out.String())
	if len(files) != 3 {
		t.Fatalf("files %v, want one for Binance and two for OKX", files)
	}
	decode := map[string]func([]byte) error{
		"binance": func(b []byte) error { _, err := binance.Decode(b); return err },
		"okx":     func(b []byte) error { _, err := okx.Decode(b); return err },
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil || filepath.Dir(f) != dir {
			t.Fatalf("%s: %v", f, err)
		}
		lines, err := record.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		venue, _, _ := strings.Cut(filepath.Base(f), ".")
		received := 0
		for i, l := range lines {
			if (i == 0) != (l.Kind == 'c') {
				t.Fatalf("%s line %d is %c", f, i, l.Kind)
			}
			if l.Kind == 'r' {
				received++
				if err := decode[venue](l.Text); err != nil {
					t.Fatalf("%s: recorded frame does not decode: %v\n%s", f, err, l.Text)
				}
			}
		}
		if received < 3 { // the subscribe's answer and data
			t.Errorf("%s: %d frames received", f, received)
		}
	}
}
