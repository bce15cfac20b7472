// Package app assembles toolwire's processes from its libraries: the edge
// fronting backends (serve), the edge with the example backends in one
// process (demo, stdio --demo), and the catalog printer (tools). cmd/toolwire
// parses flags into a [Config] and calls one of them.
package app
