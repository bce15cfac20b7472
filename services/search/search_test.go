package search

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// storeCase is a store under test, with what its progress events must look
// like.
type storeCase struct {
	name  string
	store func(t *testing.T) Store
	// checkProgress checks the progress events of a search that returned
	// matched documents out of total matches.
	checkProgress func(t *testing.T, limit, matched, total int, progress []*mcpv1.Progress)
}

var stores = []storeCase{
	{
		name:  "embedded",
		store: func(*testing.T) Store { return NewEmbedded() },
		checkProgress: func(t *testing.T, limit, matched, total int, progress []*mcpv1.Progress) {
			t.Helper()
			for _, p := range progress {
				if p.GetTotal() != CorpusSize {
					t.Errorf("progress total = %v, want the corpus size %d", p.GetTotal(), CorpusSize)
				}
			}
			// A search that does not stop at its limit scans everything.
			if matched < limit {
				if len(progress) != CorpusSize/progressEvery {
					t.Errorf("%d progress events for a full scan, want %d", len(progress), CorpusSize/progressEvery)
				} else if last := progress[len(progress)-1].GetProgress(); last != CorpusSize {
					t.Errorf("last progress = %v, want %d", last, CorpusSize)
				}
			}
		},
	},
	{
		name:  "postgres",
		store: func(t *testing.T) Store { return sharedPostgres(t) },
		checkProgress: func(t *testing.T, limit, matched, total int, progress []*mcpv1.Progress) {
			t.Helper()
			// One event per batch that had rows.
			if want := (matched + fetchBatch - 1) / fetchBatch; len(progress) != want {
				t.Errorf("%d progress events for %d matches, want %d", len(progress), matched, want)
			}
			for _, p := range progress {
				if p.GetTotal() != float64(limit) {
					t.Errorf("progress total = %v, want the limit %d", p.GetTotal(), limit)
				}
			}
			if len(progress) > 0 && progress[len(progress)-1].GetProgress() != float64(matched) {
				t.Errorf("last progress = %v, want the %d matches", progress[len(progress)-1].GetProgress(), matched)
			}
		},
	},
}

// collect reads a search stream to its end.
func collect(stream searchv1.SearchService_SearchDocumentsClient) (docs []*searchv1.Document, progress []*mcpv1.Progress, err error) {
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return docs, progress, nil
		}
		if err != nil {
			return docs, progress, err
		}
		switch k := m.GetKind().(type) {
		case *searchv1.SearchDocumentsResponse_Document:
			docs = append(docs, k.Document)
		case *searchv1.SearchDocumentsResponse_Progress:
			progress = append(progress, k.Progress)
		default:
			return docs, progress, fmt.Errorf("unexpected message kind %T", k)
		}
	}
}

func TestSearchDocuments(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		limit    uint32
		wantCode codes.Code
	}{
		{"one word, default limit", "river", 0, codes.OK},
		{"one word, limit 1", "river", 1, codes.OK},
		{"two words, limit 1000", "river stream", 1000, codes.OK},
		{"case and punctuation ignored", "RIVER, Stream!", 1000, codes.OK},
		{"three words, fewer matches than the limit", "river stream signal", 1000, codes.OK},
		{"title and body words together", "zenith zephyr zinc", 1000, codes.OK},
		{"part of a word matches nothing", "rive", 10, codes.OK},
		{"unknown word matches nothing", "xyzzy", 10, codes.OK},
		{"limit above the maximum", "river", 1001, codes.InvalidArgument},
		{"empty query", "", 10, codes.InvalidArgument},
		{"query without words", "?! ...", 10, codes.InvalidArgument},
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			client, _ := serve(t, sc.store(t))
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					stream, err := client.SearchDocuments(t.Context(), &searchv1.SearchDocumentsRequest{Query: tt.query, Limit: tt.limit})
					if err != nil {
						t.Fatal(err)
					}
					docs, progress, err := collect(stream)
					if got := status.Code(err); got != tt.wantCode {
						t.Fatalf("code = %v (%v), want %v", got, err, tt.wantCode)
					}
					if tt.wantCode != codes.OK {
						return
					}
					wantIDs, total := expectedIDs(tt.query, tt.limit)
					var gotIDs []string
					for _, d := range docs {
						gotIDs = append(gotIDs, d.GetId())
					}
					if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
						t.Errorf("ids (-want +got):\n%s", diff)
					}
					// Whole documents, as generated.
					for _, d := range docs {
						want, err := NewEmbedded().Get(t.Context(), d.GetId())
						if err != nil {
							t.Fatal(err)
						}
						if diff := cmp.Diff(want, d, protocmp.Transform()); diff != "" {
							t.Fatalf("document %s (-want +got):\n%s", d.GetId(), diff)
						}
					}
					for i := 1; i < len(progress); i++ {
						if progress[i].GetProgress() <= progress[i-1].GetProgress() {
							t.Errorf("progress not increasing: %v then %v", progress[i-1].GetProgress(), progress[i].GetProgress())
						}
					}
					limit, _ := ParseQuery("x", tt.limit)
					sc.checkProgress(t, limit.Limit, len(docs), total, progress)
					t.Logf("%d of %d matches, %d progress events", len(docs), total, len(progress))
				})
			}
		})
	}
}

func TestGetDocument(t *testing.T) {
	docs := corpus()
	tests := []struct {
		id       string
		want     *searchv1.Document
		wantCode codes.Code
	}{
		{"doc-000001", docs[0].proto(), codes.OK},
		{"doc-000042", docs[41].proto(), codes.OK},
		{"doc-100000", docs[CorpusSize-1].proto(), codes.OK},
		{"doc-100001", nil, codes.NotFound},
		{"doc-000000", nil, codes.NotFound},
		{"doc-42", nil, codes.NotFound},
		{"doc-+00042", nil, codes.NotFound},
		{"nope", nil, codes.NotFound},
		{"", nil, codes.InvalidArgument},
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			client, _ := serve(t, sc.store(t))
			for _, tt := range tests {
				t.Run(tt.id, func(t *testing.T) {
					resp, err := client.GetDocument(t.Context(), &searchv1.GetDocumentRequest{Id: tt.id})
					if got := status.Code(err); got != tt.wantCode {
						t.Fatalf("code = %v (%v), want %v", got, err, tt.wantCode)
					}
					if diff := cmp.Diff(tt.want, resp.GetDocument(), protocmp.Transform()); diff != "" {
						t.Errorf("document (-want +got):\n%s", diff)
					}
				})
			}
		})
	}
}

// TestSearchCancelledByClient cancels a stream the client stopped reading,
// so that the handler is blocked sending, and checks that the handler
// returns.
func TestSearchCancelledByClient(t *testing.T) {
	const method = "/examples.search.v1.SearchService/SearchDocuments"
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			client, s := serve(t, sc.store(t))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			stream, err := client.SearchDocuments(ctx, &searchv1.SearchDocumentsRequest{Query: "river", Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); err != nil {
				t.Fatal(err)
			}
			cancel()
			_, _, err = collect(stream)
			if got := status.Code(err); got != codes.Canceled {
				t.Errorf("stream after cancel: %v, want Canceled", err)
			}
			waitFor(t, "the handler to return", func() bool { return s.InFlight(method) == 0 })
		})
	}
}

// TestEmbeddedSearchStopsAtOnce cancels the context from inside the send
// function and checks that nothing more is sent.
func TestEmbeddedSearchStopsAtOnce(t *testing.T) {
	tests := []struct {
		name  string
		query string
		// cancelAfter is how many messages to take before cancelling.
		cancelAfter int
	}{
		{"during a scan without matches", "xyzzy", 1},
		{"after a document", "river", 1},
		{"between documents", "river", 5},
		{"later in a scan", "river stream signal", 20},
	}
	e := NewEmbedded()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := ParseQuery(tt.query, 1000)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			sent, afterCancel := 0, 0
			err := e.Search(ctx, q, func(*searchv1.SearchDocumentsResponse) error {
				if ctx.Err() != nil {
					afterCancel++
				}
				if sent++; sent == tt.cancelAfter {
					cancel()
				}
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Search = %v, want context.Canceled", err)
			}
			if afterCancel != 0 {
				t.Errorf("%d messages sent after the cancel", afterCancel)
			}
		})
	}
}

func TestServiceErrorMapping(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want codes.Code
	}{
		{"nil", context.Background(), nil, codes.OK},
		{"not found", context.Background(), fmt.Errorf("wrapped: %w", ErrNotFound), codes.NotFound},
		{"call cancelled", canceled, errors.New("conn closed"), codes.Canceled},
		{"deadline", context.Background(), context.DeadlineExceeded, codes.DeadlineExceeded},
		{"status passes", context.Background(), status.Error(codes.Unavailable, "x"), codes.Unavailable},
		{"other hidden", context.Background(), errors.New("pq: secret detail"), codes.Internal},
	}
	s := NewService(NewEmbedded(), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.status(tt.ctx, "search", tt.err)
			if got := status.Code(err); got != tt.want {
				t.Errorf("code = %v, want %v", got, tt.want)
			}
			if st := status.Convert(err); tt.want == codes.Internal && st.Message() != "search failed" {
				t.Errorf("message = %q leaks the cause", st.Message())
			}
		})
	}
}
