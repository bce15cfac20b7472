package search

import (
	"context"
	"testing"

	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
)

// BenchmarkGenerate measures generating the whole corpus, which the
// embedded store does once per process.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if docs := generate(CorpusSize); len(docs) != CorpusSize {
			b.Fatalf("generated %d documents", len(docs))
		}
	}
}

// BenchmarkEmbeddedSearch measures searches over the generated corpus,
// without gRPC: a query that stops early at its limit, and ones that scan
// everything.
func BenchmarkEmbeddedSearch(b *testing.B) {
	e := NewEmbedded()
	e.Warm()
	for _, bb := range []struct {
		name  string
		query string
		limit uint32
	}{
		{"common word limit 10", "river", 10},
		{"common word limit 1000", "river", 1000},
		{"three words full scan", "river stream signal", 1000},
		{"unknown word full scan", "xyzzy", 10},
	} {
		b.Run(bb.name, func(b *testing.B) {
			q, _ := ParseQuery(bb.query, bb.limit)
			b.ReportAllocs()
			for b.Loop() {
				if err := e.Search(context.Background(), q, func(*searchv1.SearchDocumentsResponse) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
