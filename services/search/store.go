package search

import (
	"context"
	"errors"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
	"github.com/toolwire/toolwire/server"
)

// DefaultLimit is the number of documents a search returns when the request
// leaves the limit at 0.
const DefaultLimit = 10

// ErrNotFound is returned by [Store.Get] for an id that no document has.
var ErrNotFound = errors.New("document not found")

// Query is a parsed search: documents match when their title and body
// together contain every word.
type Query struct {
	// Words are lowercase runs of ASCII letters and digits, without
	// duplicates, as [ParseQuery] returns them.
	Words []string
	// Limit is the most documents to return; it is at least 1.
	Limit int
}

// ParseQuery splits text into words, the lowercase runs of ASCII letters and
// digits (anything else separates words), and applies [DefaultLimit] when
// limit is 0. Documents are split into words the same way. It reports false
// when text holds no word.
func ParseQuery(text string, limit uint32) (Query, bool) {
	q := Query{Limit: int(limit)}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	seen := make(map[string]bool)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), isSeparator) {
		if !seen[w] {
			seen[w] = true
			q.Words = append(q.Words, w)
		}
	}
	return q, len(q.Words) > 0
}

func isSeparator(r rune) bool {
	return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
}

// SendFunc receives the messages of a search in order: documents in id
// order, with progress between them. An error from it stops the search,
// which returns that error.
type SendFunc func(*searchv1.SearchDocumentsResponse) error

// Store holds the corpus. Its implementations are [Embedded] and
// [Postgres].
type Store interface {
	// Search sends the documents that match q, in id order, at most
	// q.Limit of them, with progress events as it goes. It stops as soon
	// as ctx is done, and returns ctx's error then.
	Search(ctx context.Context, q Query, send SendFunc) error
	// Get returns the document with the given id, or [ErrNotFound].
	Get(ctx context.Context, id string) (*searchv1.Document, error)
	// Close releases the store's resources.
	Close()
}

// progressMessage wraps a progress event for the stream.
func progressMessage(done, total float64, message string) *searchv1.SearchDocumentsResponse {
	return &searchv1.SearchDocumentsResponse{Kind: &searchv1.SearchDocumentsResponse_Progress{
		Progress: server.Progress(done, total, message),
	}}
}

// documentMessage wraps a document for the stream.
func documentMessage(d *searchv1.Document) *searchv1.SearchDocumentsResponse {
	return &searchv1.SearchDocumentsResponse{Kind: &searchv1.SearchDocumentsResponse_Document{Document: d}}
}

// proto converts a generated document.
func (d *document) proto() *searchv1.Document {
	return &searchv1.Document{
		Id:        d.id,
		Title:     d.title,
		Body:      d.body,
		Tags:      slices.Clone(d.tags),
		CreatedAt: timestamppb.New(d.createdAt),
	}
}
