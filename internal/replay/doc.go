// Package replay serves recorded venue sessions back over WebSocket, so
// that candlewire (or any client) collects from a recording exactly as
// from the live venue: a client that connects to a recorded URL's path
// gets the next unplayed session recorded on that path, its frames at the
// recorded pace (or faster), then a normal close.
package replay
