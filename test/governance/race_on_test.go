//go:build race

package governance

// raceDetector says the tests run with -race, which slows the in-process
// edge several times over.
const raceDetector = true
