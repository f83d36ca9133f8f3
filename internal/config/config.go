package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/candlewire/candlewire/internal/market"
)

// Config is the file form of `candlewire run` settings. Command-line flags
// override it.
type Config struct {
	Markets []string `yaml:"markets"` // venue:SYMBOL
	// MarketsFile names a markets file (ReadMarketsFile) instead of markets.
	MarketsFile string           `yaml:"markets_file"`
	DB          string           `yaml:"db"`     // SQLite path
	Listen      string           `yaml:"listen"` // HTTP address
	Venues      map[string]Venue `yaml:"venues"` // per-venue endpoints, keyed by venue name
	Log         string           `yaml:"log"`    // debug, info, warn, error
	// LogFormat is text (key=value, the default) or json.
	LogFormat string `yaml:"log_format"`
	Serve     Serve  `yaml:"serve"` // how clients are served
	// RepairLookback is how far back, before the newest stored minute, gap
	// repair looks for minutes that are not final (and how long a history
	// gap it fetches); zero keeps the default, 7 days (168h).
	RepairLookback time.Duration `yaml:"repair_lookback"`
	// FormingEvery is how often at most a forming bin's new version is
	// stored and sent to clients; zero keeps the default, 1s. At or below
	// the writer's 100ms flush period it stores every version a flush holds.
	FormingEvery time.Duration `yaml:"forming_every"`
	// Retention is how long a PostgreSQL store keeps what it keeps.
	Retention Retention `yaml:"retention"`
	// Cluster, when it lists NATS servers, joins the node to a cluster.
	Cluster Cluster `yaml:"cluster"`
}

// Retention is how long a store keeps what it keeps.
type Retention struct {
	// Changes is how old a client's cursor may be and still resume; an
	// older one is told to resync. Zero keeps the default, 7 days (168h).
	// A PostgreSQL store's.
	Changes time.Duration `yaml:"changes"`
	// Candles, when set, is how long a PostgreSQL store keeps candles of
	// every interval, by open time; zero keeps them all.
	Candles time.Duration `yaml:"candles"`
	// Intervals is how long candles of each interval named are kept, in
	// any store ({1m: 90d}): bins that ended longer ago are deleted in the
	// background. An interval not named is kept for ever.
	Intervals map[string]Duration `yaml:"intervals"`
}

// Duration is a config duration that may count days and weeks too
// (90d, 2w, 36h; market.ParseDuration).
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := market.ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Serve protects the serving endpoints.
type Serve struct {
	// Tokens, when any, are the bearer tokens every request must carry
	// (Authorization: Bearer T, or ?token=T for browsers).
	Tokens []string `yaml:"tokens"`
	// Origins are the host patterns of web pages allowed to open
	// WebSockets besides the server's own host, e.g. "*.example.com".
	Origins []string `yaml:"origins"`
	// Hosts are the names (NAME, NAME:PORT or a pattern such as
	// *.example.com) requests may be addressed to (the Host header);
	// others get 421, against DNS rebinding. Loopback names are always
	// allowed. Without any, a server on a loopback address answers to the
	// loopback names and its address only, one on another address to any.
	Hosts []string `yaml:"hosts"`
	// MaxConnsPerIP bounds the streaming connections and /v1/candles
	// requests of one client address (default 1000; -1 for no limit).
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// BitMEX maps BitMEX symbols of the BitMEX-compatible endpoint to
	// markets ({XBTUSD: binance:BTCUSDT}); each collected USD(T) market
	// also gets a derived alias (binance:ETHUSDT is ETHUSD).
	BitMEX map[string]string `yaml:"bitmex_aliases"`
	// TLSCert and TLSKey, when both set, serve https and wss.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

// Venue overrides a venue's endpoints.
type Venue struct {
	WSURL   string `yaml:"ws_url"`
	RESTURL string `yaml:"rest_url"`
	// ConnectBudget is the most connects per rolling hour; 0 keeps the
	// venue's own limit (exchange.Driver.Budget).
	ConnectBudget int `yaml:"connect_budget"`
	// SilenceTimeout is how long a connection may stay silent before it is
	// taken for dead (half-open) and replaced; zero keeps the venue's
	// default (Binance 60s; BitMEX 10s: a ping after 5s, 5s for the pong).
	SilenceTimeout time.Duration `yaml:"silence_timeout"`
	// BackoffMax caps the wait between reconnect attempts (exponential
	// backoff with full jitter from 500ms); zero keeps the default, 60s. A
	// venue's Retry-After is honoured whatever it says.
	BackoffMax time.Duration `yaml:"backoff_max"`
}

// Load reads the config file at path ("" for none), then the
// CANDLEWIRE_* variables of the process's environment over it (FromEnv),
// and validates the result.
func Load(path string) (Config, error) { return LoadFrom(path, os.Environ()) }

// LoadFrom is Load with the environment given.
func LoadFrom(path string, environ []string) (Config, error) {
	var b []byte
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
	}
	c, err := decode(b)
	if err == nil {
		err = FromEnv(&c, environ)
	}
	if err == nil {
		err = c.check()
	}
	if err == nil {
		err = c.Serve.checkTLS()
	}
	switch {
	case err != nil && path != "":
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	case err != nil:
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// Parse decodes and validates YAML config text.
func Parse(b []byte) (Config, error) {
	c, err := decode(b)
	if err == nil {
		err = c.check()
	}
	if err != nil {
		return Config{}, err
	}
	return c, nil
}

// decode reads YAML config text, refusing keys it does not know.
func decode(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	return c, nil
}

// check validates every section.
func (c Config) check() error {
	if len(c.Markets) > 0 && c.MarketsFile != "" {
		return errors.New("markets and markets_file: name the markets in one place")
	}
	for _, m := range c.Markets {
		if _, err := market.ParseMarket(m); err != nil {
			return err
		}
	}
	for name, v := range c.Venues {
		if err := v.check(); err != nil {
			return fmt.Errorf("venues.%s.%w", name, err)
		}
	}
	if err := c.Serve.check(); err != nil {
		return err
	}
	if err := c.Cluster.Check(); err != nil {
		return err
	}
	if c.Retention.Changes < 0 || c.Retention.Candles < 0 {
		return fmt.Errorf("retention: %s, %s: negative", c.Retention.Changes, c.Retention.Candles)
	}
	if c.RepairLookback < 0 {
		return fmt.Errorf("repair_lookback: %s is negative", c.RepairLookback)
	}
	if c.FormingEvery < 0 {
		return fmt.Errorf("forming_every: %s is negative", c.FormingEvery)
	}
	if err := c.Retention.checkIntervals(c.RepairLookback); err != nil {
		return err
	}
	switch c.Log {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log: unknown level %q", c.Log)
	}
	if c.LogFormat != "" && c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log_format: %q is neither text nor json", c.LogFormat)
	}
	return nil
}

// check validates the serve section.
func (s Serve) check() error {
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return errors.New("serve: tls_cert and tls_key go together")
	}
	for alias, m := range s.BitMEX {
		if _, err := market.ParseMarket(m); err != nil || alias == "" {
			return fmt.Errorf("serve.bitmex_aliases.%s: %v", alias, err)
		}
	}
	if s.MaxConnsPerIP < -1 {
		return fmt.Errorf("serve.max_conns_per_ip: %d is negative (-1 means no limit)", s.MaxConnsPerIP)
	}
	for _, h := range s.Hosts {
		if _, err := path.Match(h, ""); h == "" || strings.ContainsAny(h, "/ ") || err != nil {
			return fmt.Errorf("serve.hosts: %q is not a host name (want NAME, NAME:PORT or *.DOMAIN)", h)
		}
	}
	for _, t := range s.Tokens {
		if len(t) < 16 {
			return errors.New("serve.tokens: every token needs at least 16 characters")
		}
	}
	return nil
}

func (v Venue) check() error {
	if v.WSURL != "" {
		if err := CheckURL(v.WSURL, "ws", "wss"); err != nil {
			return fmt.Errorf("ws_url: %w", err)
		}
	}
	if v.RESTURL != "" {
		if err := CheckURL(v.RESTURL, "http", "https"); err != nil {
			return fmt.Errorf("rest_url: %w", err)
		}
	}
	if v.ConnectBudget < 0 {
		return fmt.Errorf("connect_budget: %d is negative", v.ConnectBudget)
	}
	if v.SilenceTimeout < 0 {
		return fmt.Errorf("silence_timeout: %s is negative", v.SilenceTimeout)
	}
	if v.BackoffMax < 0 {
		return fmt.Errorf("backoff_max: %s is negative", v.BackoffMax)
	}
	return nil
}

// CheckURL accepts an absolute URL with a host and one of the schemes.
func CheckURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("bad URL %q: %w", raw, err)
	}
	for _, s := range schemes {
		if u.Scheme == s && u.Host != "" {
			return nil
		}
	}
	return fmt.Errorf("bad URL %q: want %s://HOST[/PATH]", raw, strings.Join(schemes, ":// or "))
}

// DefaultRepairLookback is how far back gap repair looks when the config
// does not say.
const DefaultRepairLookback = 7 * 24 * time.Hour

// checkIntervals refuses an interval retention that names no interval,
// or that is shorter than gap repair's look-back and a day: repair would
// fetch again, as missing, the bins retention deleted.
func (r Retention) checkIntervals(lookback time.Duration) error {
	if lookback <= 0 {
		lookback = DefaultRepairLookback
	}
	for name, d := range r.Intervals {
		if _, err := market.ParseInterval(name); err != nil {
			return fmt.Errorf("retention.intervals.%s: %w", name, err)
		}
		if least := lookback + 24*time.Hour; time.Duration(d) < least {
			return fmt.Errorf("retention.intervals.%s: %s is shorter than repair_lookback (%s) and a day: gap repair would fetch again what retention deletes; keep at least %s",
				name, time.Duration(d), lookback, least)
		}
	}
	return nil
}

// IntervalSpans is Intervals by interval (checked by Load and Parse).
func (r Retention) IntervalSpans() map[market.Interval]time.Duration {
	out := map[market.Interval]time.Duration{}
	for name, d := range r.Intervals {
		if iv, err := market.ParseInterval(name); err == nil {
			out[iv] = time.Duration(d)
		}
	}
	return out
}
