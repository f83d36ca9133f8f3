// Package spell suggests the name a person meant when they mistyped one:
// a flag, a config key, an environment variable.
package spell
