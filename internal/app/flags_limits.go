package app

import "flag"

// registerLimitFlags registers rate, concurrency, connection and time limit
// flags (issue 6).
func registerLimitFlags(cmd string, fs *flag.FlagSet, cfg *Config) {
}
