package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/candlewire/candlewire/internal/market"
)

// Config is the file form of `candlewire run` settings. Command-line flags
// override it.
type Config struct {
	Markets []string         `yaml:"markets"` // venue:SYMBOL
	DB      string           `yaml:"db"`      // SQLite path
	Listen  string           `yaml:"listen"`  // HTTP address
	Venues  map[string]Venue `yaml:"venues"`  // per-venue endpoints, keyed by venue name
	Log     string           `yaml:"log"`     // debug, info, warn, error
}

// Venue overrides a venue's endpoints.
type Venue struct {
	WSURL   string `yaml:"ws_url"`
	RESTURL string `yaml:"rest_url"`
	// ConnectBudget is the most connects per rolling hour (BitMEX protocol).
	ConnectBudget int `yaml:"connect_budget"`
}

// Load reads and validates a config file.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates YAML config text.
func Parse(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	for _, m := range c.Markets {
		if _, err := market.ParseMarket(m); err != nil {
			return Config{}, err
		}
	}
	switch c.Log {
	case "", "debug", "info", "warn", "error":
	default:
		return Config{}, fmt.Errorf("log: unknown level %q", c.Log)
	}
	return c, nil
}
