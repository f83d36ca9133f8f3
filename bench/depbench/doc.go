// Package depbench holds the benchmarks that chose candlewire's
// performance-critical dependencies. It is a separate module so the
// libraries that lost stay out of candlewire's go.mod.
package depbench
