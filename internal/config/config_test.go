package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, bad string
	}{
		{name: "full", in: "markets: [binance:BTCUSDT, bitmex:XBTUSD]\ndb: x.db\nlisten: 127.0.0.1:9\nvenues:\n  bitmex: {ws_url: ws://h/realtime, rest_url: http://h}\nlog: debug\n"},
		{name: "empty", in: ""},
		{name: "unknown key", in: "marketz: [x]\n", bad: "marketz"},
		{name: "bad market", in: "markets: [BTCUSDT]\n", bad: "venue:SYMBOL"},
		{name: "bad level", in: "log: loud\n", bad: "unknown level"},
		{name: "not yaml", in: "markets: [\n", bad: "yaml"},
		{name: "ws scheme", in: "venues: {binance: {ws_url: http://h}}\n", bad: "venues.binance.ws_url"},
		{name: "rest scheme", in: "venues: {binance: {rest_url: ws://h}}\n", bad: "venues.binance.rest_url"},
		{name: "no host", in: "venues: {binance: {rest_url: 'http:///x'}}\n", bad: "want http:// or https://HOST"},
		{name: "negative budget", in: "venues: {bitmex: {connect_budget: -1}}\n", bad: "connect_budget"},
		{name: "bad duration", in: "venues: {bitmex: {silence_timeout: soon}}\n", bad: "soon"},
		{name: "negative silence", in: "venues: {bitmex: {silence_timeout: -2s}}\n", bad: "silence_timeout"},
		{name: "negative backoff", in: "venues: {bitmex: {backoff_max: -1s}}\n", bad: "backoff_max"},
		{name: "tls half", in: "serve: {tls_cert: a.pem}\n", bad: "go together"},
		{name: "short token", in: "serve: {tokens: [abc]}\n", bad: "16 characters"},
		{name: "serve", in: "serve: {tokens: [0123456789abcdef], origins: ['*.example.com'], max_conns_per_ip: 5, tls_cert: c.pem, tls_key: k.pem}\n"},
		{name: "negative conns", in: "serve: {max_conns_per_ip: -5}\n", bad: "serve.max_conns_per_ip: -5 is negative"},
		{name: "no conn limit", in: "serve: {max_conns_per_ip: -1}\n"},
		{name: "bad alias", in: "serve: {bitmex_aliases: {XBTUSD: BTCUSDT}}\n", bad: "serve.bitmex_aliases.XBTUSD"},
		{name: "silence", in: "venues: {bitmex: {silence_timeout: 1500ms}}\n"},
		{name: "cluster", in: "cluster: {nats: ['nats://a:4222', 'tls://b:4222'], node: collector-1, replicas: 3, credentials: u.creds, tls: {ca: ca.pem}}\n"},
		{name: "cluster scheme", in: "cluster: {nats: ['http://a:4222']}\n", bad: "cluster.nats"},
		{name: "cluster node", in: "cluster: {nats: ['nats://a:4222'], node: 'a.b'}\n", bad: "cluster.node"},
		{name: "cluster replicas", in: "cluster: {nats: ['nats://a:4222'], replicas: 7}\n", bad: "cluster.replicas"},
		{name: "cluster tls half", in: "cluster: {nats: ['nats://a:4222'], tls: {key: k.pem}}\n", bad: "cluster.tls"},
		{name: "cluster without nats", in: "cluster: {node: a}\n", bad: "without cluster.nats"},
		{name: "cluster unknown key", in: "cluster: {natz: []}\n", bad: "natz"},
		{name: "cluster pins", in: "cluster: {nats: ['nats://a:4222'], pins: {binance: [c1, c2], 'okx:BTC-USDT': [c3]}}\n"},
		{name: "cluster pin key", in: "cluster: {nats: ['nats://a:4222'], pins: {'no such': [c1]}}\n", bad: "neither a venue nor a market"},
		{name: "cluster pin node", in: "cluster: {nats: ['nats://a:4222'], pins: {binance: ['c 1']}}\n", bad: "not a node name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.in))
			if c.bad != "" {
				if err == nil || !strings.Contains(err.Error(), c.bad) {
					t.Fatalf("err = %v, want %q", err, c.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.name == "full" && (len(cfg.Markets) != 2 || cfg.Venues["bitmex"].WSURL != "ws://h/realtime") {
				t.Fatalf("%+v", cfg)
			}
		})
	}
}

// TestLoadChecksTLSFiles: Load reads the certificate and key, so a
// missing or unusable one is refused with the file's name before run starts.
func TestLoadChecksTLSFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	cases := []struct{ name, cert, key, bad string }{
		{name: "missing cert", cert: missing, key: junk, bad: "serve.tls_cert: open " + missing},
		{name: "missing key", cert: junk, key: missing, bad: "serve.tls_key: open " + missing},
		{name: "not a certificate", cert: junk, key: junk, bad: "serve.tls_cert " + junk + " and serve.tls_key " + junk},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name+".yaml")
		if err := os.WriteFile(p, []byte("serve: {tls_cert: '"+c.cert+"', tls_key: '"+c.key+"'}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), c.bad) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("markets: [binance:BTCUSDT]\nvenues:\n  bitmex: {ws_url: x}\n"))
	f.Add([]byte("log: debug\n"))
	f.Add([]byte("venues: {bitmex: {silence_timeout: 3s, connect_budget: 5, rest_url: 'http://h'}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		Parse(b) //nolint:errcheck // any input must return, never panic
	})
}

func TestRetentionIntervals(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte("retention: {intervals: {1m: 90d, 5m: 2w, 1h: 4000h}}"))
	if err != nil {
		t.Fatal(err)
	}
	spans := c.Retention.IntervalSpans()
	if len(spans) != 3 || spans[market.I1m] != 90*24*time.Hour || spans[market.I5m] != 14*24*time.Hour || spans[market.I1h] != 4000*time.Hour {
		t.Fatalf("spans %v", spans)
	}
	for in, want := range map[string]string{
		"retention: {intervals: {2m: 90d}}":                       "retention.intervals.2m",
		"retention: {intervals: {1m: 3d}}":                        "shorter than repair_lookback (168h0m0s) and a day",
		"repair_lookback: 24h\nretention: {intervals: {1m: 36h}}": "shorter than repair_lookback (24h0m0s) and a day",
		"retention: {intervals: {1m: soon}}":                      `cannot read duration "soon"`,
	} {
		if _, err := Parse([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	if _, err := Parse([]byte("repair_lookback: 24h\nretention: {intervals: {1m: 2d}}")); err != nil {
		t.Errorf("two days with a day's look-back: %v", err)
	}
}
