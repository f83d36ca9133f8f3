// Package record writes venue connections to disk and reads them back:
// every frame received, with its receive time, and the connect and sent
// lines, in the line format of the recordings in ../shared/realdata, in
// zstd-compressed files that rotate by age and size. One file holds one
// connection (a rotated connection continues in the next file, which
// repeats its connect line), so a file replays on its own.
package record
