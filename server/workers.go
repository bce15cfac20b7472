package server

import "runtime"

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
