// Package exchange describes a venue to the rest of candlewire. Each venue
// lives in one folder below this one: its client (decoders, feed, REST,
// instrument list) and, beside it, its simulator front-end
// (<venue>/<venue>sim). The client package exports one Driver, everything
// candlewire knows about the venue; package registry lists the drivers,
// and the command line, the simulator, the benchmarks and the tests derive
// their venue lists from it.
package exchange
