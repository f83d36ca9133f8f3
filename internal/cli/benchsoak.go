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

// soakOptions are the flags of `candlewire bench soak`.
type soakOptions struct {
	ws, sse, poll int
	duration      time.Duration
	every         time.Duration
	speed         float64
	faultEvery    time.Duration
	markets       []market.Market
	intervals     []market.Interval
	settle        time.Duration
	asJSON        bool
}

func parseSoak(args []string, stderr io.Writer) (soakOptions, error) {
	fs := newFlags("bench soak", stderr)
	var o soakOptions
	fs.IntVar(&o.ws, "ws", 5000, "WebSocket clients")
	fs.IntVar(&o.sse, "sse", 500, "SSE clients")
	fs.IntVar(&o.poll, "poll", 500, "long-poll clients")
	fs.DurationVar(&o.duration, "duration", time.Hour, "soak time")
	fs.DurationVar(&o.every, "every", time.Minute, "sampling period of the server process")
	fs.Float64Var(&o.speed, "speed", 30, "simulated seconds per real second")
	fs.DurationVar(&o.faultEvery, "fault-every", 3*time.Minute, "inject a simulator fault this often (real time; 0: none)")
	ms := fs.String("markets", "binance:BTCUSDT,okx:BTC-USDT,bybit:BTCUSDT,kraken:BTC-USD", "markets collected, venue:SYMBOL")
	ivs := fs.String("intervals", "1m,5m,1h", "intervals followed; each client follows two streams of markets × intervals")
	fs.DurationVar(&o.settle, "settle", 3*time.Minute, "at the end, how long to wait for the store's finals and the clients' deliveries")
	fs.BoolVar(&o.asJSON, "json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return o, err
	}
	if o.ws < 0 || o.sse < 0 || o.poll < 0 || o.ws+o.sse+o.poll == 0 || o.duration <= 0 || o.every <= 0 || o.speed <= 0 || o.faultEvery < 0 {
		return o, fmt.Errorf("%w: --ws, --sse, --poll must not be negative (one positive); --duration, --every, --speed positive", errUsage)
	}
	var err error
	if o.markets, err = market.ParseMarkets(*ms); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	for _, s := range strings.Split(*ivs, ",") {
		iv, err := market.ParseInterval(strings.TrimSpace(s))
		if err != nil {
			return o, fmt.Errorf("%w: %v", errUsage, err)
		}
		o.intervals = append(o.intervals, iv)
	}
	return o, nil
}

// streams are every market at every interval.
func (o soakOptions) streams() []string {
	var ss []string
	for _, iv := range o.intervals {
		for _, m := range o.markets {
			ss = append(ss, market.Series{Market: m, Interval: iv}.String())
		}
	}
	return ss
}

// benchSoak runs `candlewire bench soak`: run and the simulator as child
// processes, many clients of every transport, faults, samples of the
// server over time, and at the end a check that every client received
// every final candle of its streams.
func benchSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseSoak(args, stderr)
	if err != nil {
		return err
	}
	res, err := soak(ctx, o, stderr)
	if err != nil {
		return err
	}
	if o.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		res.print(stdout)
	}
	if res.Missing > 0 || res.Expected == 0 {
		return fmt.Errorf("soak: %d of %d deliveries missing", res.Missing, res.Expected)
	}
	return nil
}

// soak sets up, runs and checks one soak.
func soak(ctx context.Context, o soakOptions, stderr io.Writer) (soakResult, error) {
	dir, err := os.MkdirTemp("", "candlewire-soak-")
	if err != nil {
		return soakResult{}, err
	}
	defer os.RemoveAll(dir)
	simAddr, stopSim, err := startSimChild(ctx, o.markets, o.speed, "", stderr)
	if err != nil {
		return soakResult{}, err
	}
	defer stopSim()
	srv, err := startRunChild(ctx, dir, simAddr, o.markets, stderr)
	if err != nil {
		return soakResult{}, err
	}
	defer srv.stop()
	procs, err := startSoakClients(ctx, o, srv.base, stderr)
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	if err != nil {
		return soakResult{}, err
	}
	s := &soakRun{o: o, simAddr: simAddr, srv: srv, procs: procs, log: stderr}
	return s.run(ctx)
}

// startSoakClients starts a client process per transport with clients.
func startSoakClients(ctx context.Context, o soakOptions, base string, log io.Writer) ([]*bench.SoakProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var procs []*bench.SoakProcess
	for _, tn := range []struct {
		transport string
		n         int
	}{{"ws", o.ws}, {"sse", o.sse}, {"longpoll", o.poll}} {
		if tn.n == 0 {
			continue
		}
		fmt.Fprintf(log, "soak: connecting %d %s clients\n", tn.n, tn.transport)
		p, err := bench.StartSoakClients(ctx, exe, base, tn.transport, tn.n, o.streams())
		if err != nil {
			return procs, err
		}
		procs = append(procs, p)
		fmt.Fprintf(log, "soak: %d %s clients connected\n", p.Connected, tn.transport)
	}
	return procs, nil
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
