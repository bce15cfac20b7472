// Package search implements examples.search.v1.SearchService: a search over
// a corpus of generated documents that streams its matches with progress,
// the classic long-running tool.
//
// The corpus is [CorpusSize] documents ("doc-000001" to "doc-100000"),
// generated deterministically from a fixed word list and seed, so every
// store and every run holds the same documents. Two [Store]s serve it:
//
//   - [Embedded], in memory, the default;
//   - [Postgres], a table read through a server-side cursor, created and
//     seeded with the same corpus on first start.
//
// A document matches a query when its title and body together contain every
// word of the query, ignoring case; words are runs of ASCII letters and
// digits (see [ParseQuery]).
//
// In a process of its own, [Run] serves it. To serve it beside other
// services, open a [Service] with [New] and register it on a
// [server.Server]'s gRPC server:
//
//	svc, err := search.New(ctx, search.Config{DatabaseURL: url})
//	if err != nil { ... }
//	defer svc.Close()
//	s := server.New(nil)
//	svc.Register(s.GRPC())
//	err = s.Serve(ctx, lis)
package search
