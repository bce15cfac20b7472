// Package conformance holds the stdio half of issue 4's proof. The official
// MCP conformance suites (@modelcontextprotocol/conformance, pinned in
// package.json and run by scripts/conformance.sh) speak Streamable HTTP
// only; the tests in this directory give `toolwire stdio --demo --services
// conformance` the same server scenarios through the go-sdk client.
//
// Each scenario is a subtest named after the suite's scenario
// (server-initialize, tools-call-sampling, resources-subscribe, ...), run on
// one long-lived stdio session per session revision the suites cover
// (2025-06-18 and 2025-11-25). It asserts what the suite asserts, with the
// fixtures' exact texts (services/conformance), and reads the wire where the
// suite checks bytes the SDK hides: ping, logging/setLevel and
// resources/(un)subscribe must return exactly {}. A second session, a client
// without sampling, checks the -32021 refusal of test_missing_capability and
// that a cancelled call gets no response while the session keeps working.
//
// The tests build cmd/toolwire once; TOOLWIRE_BIN names a binary to test
// instead. They need only the Go toolchain, and run in `make test`.
package conformance
