// Package governance is the proof of issue 6, resource governance: it runs
// the real edge (the toolwire binary's demo, or app.Demo in this process
// where a goroutine count is needed) on loopback, under bounded load, and
// reports what each limit did.
//
//   - Two edge processes sharing Redis admit one principal's global budget,
//     not twice it (REDIS_URL).
//   - One principal flooding calls and holding 500 streams leaves another
//     principal's calls succeeding.
//   - 1,000 abandoned streams are cancelled, and goroutines return to their
//     baseline (goleak).
//   - Slowloris connections are closed at the header timeout, and the
//     connection bound refuses the excess, while the edge keeps answering.
//   - A Redis that dies and comes back: the edge falls back, counts it, and
//     returns to Redis.
//   - Over capacity, requests are shed with 503 at once.
//
// Tests that need Redis read REDIS_URL, or start a private redis-server;
// without them they skip, unless CI=true, when they fail.
package governance
