package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/candlewire/candlewire/internal/spell"
)

// EnvPrefix begins the name of every environment variable that sets a
// config key: the key's path in capitals, joined by underscores
// (CANDLEWIRE_LISTEN, CANDLEWIRE_SERVE_MAX_CONNS_PER_IP,
// CANDLEWIRE_VENUES_BINANCE_WS_URL).
const EnvPrefix = "CANDLEWIRE_"

// envKey is one key the environment can set.
type envKey struct {
	name  string // after the prefix: SERVE_TOKENS
	index []int  // of the field in Config
	typ   reflect.Type
}

// envKeys are Config's keys, but for the venues (a map, keyed by name).
var envKeys = walkKeys(reflect.TypeFor[Config](), "", nil)

// venueKeys are a venue's keys, under VENUES_NAME_.
var venueKeys = walkKeys(reflect.TypeFor[Venue](), "", nil)

func walkKeys(t reflect.Type, prefix string, index []int) []envKey {
	var keys []envKey
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" || tag == "venues" {
			continue
		}
		name, at := prefix+strings.ToUpper(tag), append(slices.Clone(index), i)
		if f.Type.Kind() == reflect.Struct && f.Type.String() != "time.Duration" {
			keys = append(keys, walkKeys(f.Type, name+"_", at)...)
			continue
		}
		keys = append(keys, envKey{name: name, index: at, typ: f.Type})
	}
	return keys
}

// FromEnv sets c's keys from the CANDLEWIRE_* variables of environ
// (NAME=VALUE), over what the file said. A value is read as the key's YAML
// would be (168h, 1000, {XBTUSD: binance:BTCUSDT}); a list may also be
// written comma-separated (binance:BTCUSDT,okx:BTC-USDT). Variables that
// name no key are left to the tools that read them (CANDLEWIRE_TEST_…),
// unless they are a key misspelt, which is refused with the key meant.
func FromEnv(c *Config, environ []string) error {
	v := reflect.ValueOf(c).Elem()
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		key, ok := strings.CutPrefix(name, EnvPrefix)
		if !ok {
			continue
		}
		if venue, field, ok := venueKey(key); ok {
			if err := setVenue(c, venue, field, name, value); err != nil {
				return err
			}
			continue
		}
		i := slices.IndexFunc(envKeys, func(k envKey) bool { return k.name == key })
		if i < 0 {
			if near := nearestKey(key); near != "" {
				return fmt.Errorf("%s: no such setting (did you mean %s%s?)", name, EnvPrefix, near)
			}
			continue
		}
		if err := setField(v.FieldByIndex(envKeys[i].index), name, value); err != nil {
			return err
		}
	}
	return nil
}

// venueKey splits VENUES_NAME_FIELD into the venue's name (lower case, as
// the file writes it) and the field.
func venueKey(key string) (venue, field string, ok bool) {
	rest, ok := strings.CutPrefix(key, "VENUES_")
	if !ok {
		return "", "", false
	}
	venue, field, ok = strings.Cut(rest, "_")
	return strings.ToLower(venue), field, ok && venue != ""
}

func setVenue(c *Config, venue, field, name, value string) error {
	i := slices.IndexFunc(venueKeys, func(k envKey) bool { return k.name == field })
	if i < 0 {
		return fmt.Errorf("%s: a venue has no setting %s (it has %s)", name, field, strings.Join(keyNames(venueKeys), ", "))
	}
	if c.Venues == nil {
		c.Venues = map[string]Venue{}
	}
	ven := c.Venues[venue]
	if err := setField(reflect.ValueOf(&ven).Elem().FieldByIndex(venueKeys[i].index), name, value); err != nil {
		return err
	}
	c.Venues[venue] = ven
	return nil
}

// setField reads value into f as the file's YAML would be read.
func setField(f reflect.Value, name, value string) error {
	switch {
	case f.Kind() == reflect.String:
		f.SetString(value) // as it is: YAML would make "08" or "yes" something else
		return nil
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String && !strings.HasPrefix(strings.TrimSpace(value), "["):
		var list []string
		for _, s := range strings.Split(value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		f.Set(reflect.ValueOf(list))
		return nil
	}
	p := reflect.New(f.Type())
	if err := yaml.Unmarshal([]byte(value), p.Interface()); err != nil {
		return fmt.Errorf("%s=%q: %w", name, value, err)
	}
	f.Set(p.Elem())
	return nil
}

// nearestKey is the key a few letters from key, if one is.
func nearestKey(key string) string { return spell.Nearest(key, keyNames(envKeys)) }

func keyNames(keys []envKey) []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	return names
}

// EnvNames lists every variable FromEnv reads, the venues' with NAME for
// the venue: for docs and tests.
func EnvNames() []string {
	var out []string
	for _, k := range envKeys {
		out = append(out, EnvPrefix+k.name)
	}
	for _, k := range venueKeys {
		out = append(out, EnvPrefix+"VENUES_NAME_"+k.name)
	}
	return out
}
