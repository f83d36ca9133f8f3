package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	file := "listen: 127.0.0.1:1\nlog: warn\nvenues: {binance: {ws_url: wss://a}}\nserve: {tokens: [aaaaaaaaaaaaaaaa]}\n"
	for _, c := range []struct {
		name string
		env  []string
		want func(*Config)
	}{
		{"nothing set keeps the file", []string{"PATH=/bin", "CANDLEWIRE_TEST_POSTGRES=postgres://x", "CANDLEWIRE_REALDATA=/x"}, func(*Config) {}},
		{"scalars", []string{"CANDLEWIRE_LISTEN=0.0.0.0:8080", "CANDLEWIRE_LOG=debug", "CANDLEWIRE_LOG_FORMAT=json", "CANDLEWIRE_DB=08.db"},
			func(c *Config) { c.Listen, c.Log, c.LogFormat, c.DB = "0.0.0.0:8080", "debug", "json", "08.db" }},
		{"lists comma-separated or in YAML", []string{"CANDLEWIRE_MARKETS=binance:BTCUSDT, okx:BTC-USDT,", "CANDLEWIRE_SERVE_ORIGINS=[a.example.com, b.example.com]"},
			func(c *Config) {
				c.Markets, c.Serve.Origins = []string{"binance:BTCUSDT", "okx:BTC-USDT"}, []string{"a.example.com", "b.example.com"}
			}},
		{"numbers, durations, maps", []string{"CANDLEWIRE_SERVE_MAX_CONNS_PER_IP=-1", "CANDLEWIRE_REPAIR_LOOKBACK=72h", "CANDLEWIRE_RETENTION_CANDLES=2160h",
			"CANDLEWIRE_SERVE_BITMEX_ALIASES={XBTUSD: binance:BTCUSDT}", "CANDLEWIRE_CLUSTER_PINS={binance: [c1, c2]}"},
			func(c *Config) {
				c.Serve.MaxConnsPerIP, c.RepairLookback, c.Retention.Candles = -1, 72*time.Hour, 2160*time.Hour
				c.Serve.BitMEX, c.Cluster.Pins = map[string]string{"XBTUSD": "binance:BTCUSDT"}, map[string][]string{"binance": {"c1", "c2"}}
			}},
		{"nested sections", []string{"CANDLEWIRE_CLUSTER_NATS=nats://a:4222,nats://b:4222", "CANDLEWIRE_CLUSTER_NODE=c1", "CANDLEWIRE_CLUSTER_TLS_CA=/ca.pem"},
			func(c *Config) {
				c.Cluster.NATS, c.Cluster.Node, c.Cluster.TLS.CA = []string{"nats://a:4222", "nats://b:4222"}, "c1", "/ca.pem"
			}},
		{"venues by name", []string{"CANDLEWIRE_VENUES_BINANCE_WS_URL=wss://b", "CANDLEWIRE_VENUES_OKX_REST_URL=https://o", "CANDLEWIRE_VENUES_OKX_CONNECT_BUDGET=100",
			"CANDLEWIRE_VENUES_BINANCE_SILENCE_TIMEOUT=20s"},
			func(c *Config) {
				c.Venues["binance"] = Venue{WSURL: "wss://b", SilenceTimeout: 20 * time.Second}
				c.Venues["okx"] = Venue{RESTURL: "https://o", ConnectBudget: 100}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want, err := Parse([]byte(file))
			if err != nil {
				t.Fatal(err)
			}
			c.want(&want)
			got, err := Parse([]byte(file))
			if err == nil {
				err = FromEnv(&got, c.env)
			}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, %v\nwant %+v", got, err, want)
			}
		})
	}
}

func TestFromEnvRefuses(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]string{
		"CANDLEWIRE_LISTN=:8080":                     "CANDLEWIRE_LISTN: no such setting (did you mean CANDLEWIRE_LISTEN?)",
		"CANDLEWIRE_SERVE_MAX_CONNS_PER_IP=many":     `CANDLEWIRE_SERVE_MAX_CONNS_PER_IP="many": yaml: unmarshal errors`,
		"CANDLEWIRE_REPAIR_LOOKBACK=a week":          `CANDLEWIRE_REPAIR_LOOKBACK="a week"`,
		"CANDLEWIRE_VENUES_BINANCE_WSURL=wss://x":    "CANDLEWIRE_VENUES_BINANCE_WSURL: a venue has no setting WSURL (it has WS_URL, REST_URL",
		"CANDLEWIRE_SERVE_BITMEX_ALIASES=[a, b]":     "CANDLEWIRE_SERVE_BITMEX_ALIASES",
		"CANDLEWIRE_CLUSTER_PINS={binance: c1: c2}":  "CANDLEWIRE_CLUSTER_PINS",
		"CANDLEWIRE_MARKETZ=binance:BTCUSDT":         "did you mean CANDLEWIRE_MARKETS?",
		"CANDLEWIRE_RETENTION_CHANGE=1h":             "did you mean CANDLEWIRE_RETENTION_CHANGES?",
		"CANDLEWIRE_VENUES_BINANCE_BACKOFF_MAX=soon": "CANDLEWIRE_VENUES_BINANCE_BACKOFF_MAX",
	} {
		var c Config
		if err := FromEnv(&c, []string{env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", env, err, want)
		}
	}
}

// TestLoadFromChecksTheEnvironment: what the environment sets is checked
// as the file's keys are, and a file is not needed.
func TestLoadFromChecksTheEnvironment(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom("", []string{"CANDLEWIRE_MARKETS=okx:BTC-USDT", "CANDLEWIRE_LOG_FORMAT=json"})
	if err != nil || !slices.Equal(c.Markets, []string{"okx:BTC-USDT"}) || c.LogFormat != "json" {
		t.Fatalf("%+v, %v", c, err)
	}
	for env, want := range map[string]string{
		"CANDLEWIRE_LOG_FORMAT=xml":                    `config: log_format: "xml" is neither text nor json`,
		"CANDLEWIRE_MARKETS=BTCUSDT":                   "venue:SYMBOL",
		"CANDLEWIRE_VENUES_BINANCE_WS_URL=http://x":    "venues.binance.ws_url",
		"CANDLEWIRE_SERVE_TLS_CERT=/nonexistent/c.pem": "tls_cert and tls_key go together",
		"CANDLEWIRE_RETENTION_CHANGES=-1h":             "negative",
		"CANDLEWIRE_SERVE_TOKENS=short":                "serve.tokens",
		"CANDLEWIRE_CLUSTER_NATS=http://not-nats:4222": "cluster.nats",
	} {
		if _, err := LoadFrom("", []string{env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", env, err, want)
		}
	}
}

// TestEveryKeyHasAVariable: each leaf of the file's keys is named by one
// variable, so a new key cannot miss the environment.
func TestEveryKeyHasAVariable(t *testing.T) {
	t.Parallel()
	names := EnvNames()
	for _, want := range []string{"CANDLEWIRE_MARKETS", "CANDLEWIRE_DB", "CANDLEWIRE_SERVE_TLS_KEY", "CANDLEWIRE_CLUSTER_TLS_CERT",
		"CANDLEWIRE_CLUSTER_REPLICAS", "CANDLEWIRE_RETENTION_CHANGES", "CANDLEWIRE_VENUES_NAME_BACKOFF_MAX"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s among %v", want, names)
		}
	}
	leaves := 0
	var count func(reflect.Type)
	count = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			switch {
			case f.Type == reflect.TypeFor[map[string]Venue]():
				count(reflect.TypeFor[Venue]())
			case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]():
				count(f.Type)
			default:
				leaves++
			}
		}
	}
	count(reflect.TypeFor[Config]())
	if leaves != len(names) {
		t.Errorf("%d keys, %d variables: %v", leaves, len(names), names)
	}
}

// FuzzFromEnv: any value of any variable is set or refused, never a panic.
func FuzzFromEnv(f *testing.F) {
	for _, s := range []string{"x", "-1", "[a, b]", "{a: [b]}", "168h", "", "{", "!!binary AAAA", "*a"} {
		f.Add(uint8(0), s)
	}
	names := append(EnvNames(), "CANDLEWIRE_VENUES_BINANCE_WS_URL", "CANDLEWIRE_VENUES__WS_URL", "CANDLEWIRE_VENUES_X")
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		var c Config
		FromEnv(&c, []string{names[int(which)%len(names)] + "=" + value}) //nolint:errcheck // refusing is fine
	})
}
