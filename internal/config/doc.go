// Package config reads candlewire's YAML configuration file. Unknown keys
// are errors, so a typo never silently falls back to a default.
package config
