// Package jsonscan walks JSON objects and arrays field by field without
// allocating, for the venue decoders' hot paths (trade frames arrive by the
// hundred thousand per second).
//
// It checks the grammar of everything it walks, but it accepts less than
// JSON allows: strings with escape sequences are reported as such, not
// unescaped. Decoders treat anything the scanner does not like as "not the
// fast case" and decode the frame again with a full JSON decoder, which
// also produces the error message for frames that are really broken.
package jsonscan
