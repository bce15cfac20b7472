package server

import (
	"os"
	"runtime"
	"runtime/debug"
)

// streamWorkersPerCore is how many stream workers DefaultStreamWorkers
// starts per core. A backend under load has many calls in flight at once
// (the edge multiplexes its callers onto one connection); with one worker
// per core, most calls found every worker busy and got a fresh goroutine,
// whose stack then grew on every call: 8% of the echo backend's CPU at 16
// calls in flight (perf, issue 3), 1% with 16 workers per core. An idle
// worker costs a parked goroutine and its stack, a few KiB.
const streamWorkersPerCore = 16

// DefaultStreamWorkers is the [Options.StreamWorkers] the service commands
// use: streamWorkersPerCore per GOMAXPROCS.
func DefaultStreamWorkers() int { return streamWorkersPerCore * runtime.GOMAXPROCS(0) }

// DefaultGCPercent is the GC target the service commands and the edge set
// (--gogc). Their live heaps are small (a few MiB) and their allocation
// rate high, so at Go's default of 100 the collector ran many times a
// second and, with its write barriers and assists, took about a quarter of
// the CPU of a call (make bench: edge 59 and backend 29 µs a call at 100,
// 46 and 20 at 400; BENCHMARKS.md). The cost is memory: the heap grows to
// five times what is live, which for the edge is about 14 KiB per idle
// session instead of 7.
const DefaultGCPercent = 400

// SetGCPercent sets the GC target to percent, unless the GOGC environment
// variable is set (it wins) or percent is not positive (Go's default).
func SetGCPercent(percent int) {
	if os.Getenv("GOGC") != "" || percent <= 0 {
		return
	}
	debug.SetGCPercent(percent)
}
