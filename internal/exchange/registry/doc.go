// Package registry lists the venues candlewire collects from, one driver
// per line. Everything that needs the list of venues derives it from
// here: the command line, `sim --symbols`, `bench collect`, `markets`, and
// the collector and end-to-end test tables.
package registry
