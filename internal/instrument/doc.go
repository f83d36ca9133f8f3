// Package instrument is what a venue lists as tradable: each market's base
// and quote, its price step (tick) and size step (lot), whose decimal
// places are the market's exact-decimal scale, and whether it trades now.
// Each venue's REST client reads its list (candlewire run loads them at
// start; candlewire markets prints one).
package instrument
