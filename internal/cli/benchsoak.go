package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/bench"
	"github.com/candlewire/candlewire/internal/market"
)

func parseSoak(args []string, stderr io.Writer) (o bench.SoakOptions, asJSON bool, err error) {
	fs := newFlags("bench soak", stderr)
	fs.IntVar(&o.WS, "ws", 5000, "WebSocket clients")
	fs.IntVar(&o.SSE, "sse", 500, "SSE clients")
	fs.IntVar(&o.Poll, "poll", 500, "long-poll clients")
	fs.DurationVar(&o.Duration, "duration", time.Hour, "soak time")
	fs.DurationVar(&o.Every, "every", time.Minute, "sampling period of the server process")
	fs.Float64Var(&o.Speed, "speed", 30, "simulated seconds per real second")
	fs.DurationVar(&o.FaultEvery, "fault-every", 3*time.Minute, "inject a simulator fault this often (real time; 0: none)")
	ms := fs.String("markets", "binance:BTCUSDT,okx:BTC-USDT,bybit:BTCUSDT,kraken:BTC-USD", "markets collected, venue:SYMBOL")
	ivs := fs.String("intervals", "1m,5m,1h", "intervals followed; each client follows two streams of markets × intervals")
	fs.DurationVar(&o.Settle, "settle", 3*time.Minute, "at the end, how long to wait for the store's finals and the clients' deliveries")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return o, false, err
	}
	if o.WS < 0 || o.SSE < 0 || o.Poll < 0 || o.WS+o.SSE+o.Poll == 0 || o.Duration <= 0 || o.Every <= 0 || o.Speed <= 0 || o.FaultEvery < 0 {
		return o, false, fmt.Errorf("%w: --ws, --sse, --poll must not be negative (one positive); --duration, --every, --speed positive", errUsage)
	}
	if o.Markets, err = market.ParseMarkets(*ms); err != nil {
		return o, false, fmt.Errorf("%w: %v", errUsage, err)
	}
	for _, s := range strings.Split(*ivs, ",") {
		iv, err := market.ParseInterval(strings.TrimSpace(s))
		if err != nil {
			return o, false, fmt.Errorf("%w: %v", errUsage, err)
		}
		o.Intervals = append(o.Intervals, iv)
	}
	return o, asJSON, nil
}

// benchSoak runs `candlewire bench soak`: run and the simulator as child
// processes, many clients of every transport, faults, samples of the
// server over time, and at the end a check that every client received
// every final candle of its streams.
func benchSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, asJSON, err := parseSoak(args, stderr)
	if err != nil {
		return err
	}
	res, err := bench.Soak(ctx, o, stderr)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		res.Print(stdout)
	}
	if res.Missing > 0 || res.Expected == 0 {
		return fmt.Errorf("soak: %d of %d deliveries missing", res.Missing, res.Expected)
	}
	return nil
}

// benchSoakClient is the client process of a soak (not for direct use).
func benchSoakClient(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench soak-client", stderr)
	url := fs.String("url", "", "server base URL")
	tr := fs.String("transport", "ws", "ws, sse or longpoll")
	n := fs.Int("clients", 1, "clients")
	streams := fs.String("streams", "", "streams, comma-separated")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return bench.RunSoakClients(ctx, *url, *tr, *n, strings.Split(*streams, ","), os.Stdin, stdout)
}
