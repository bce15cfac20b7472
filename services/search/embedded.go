package search

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
)

// progressEvery is how many documents [Embedded.Search] scans between
// progress events.
const progressEvery = 10_000

// checkEvery is how many documents [Embedded.Search] scans between checks
// of its context, besides the check before every send.
const checkEvery = 1024

// Embedded is a [Store] over the generated corpus, held in memory. The
// corpus is generated once per process, on first use, and shared by every
// Embedded store; generating it takes about 70 ms on 2 cores (see
// BenchmarkGenerate).
type Embedded struct{}

// NewEmbedded returns an in-memory store of the generated corpus.
func NewEmbedded() *Embedded { return &Embedded{} }

// Warm generates the corpus now, rather than on the first call.
func (*Embedded) Warm() { corpus() }

// Search scans the corpus in id order and sends the matching documents, up
// to q.Limit. Every 10,000 documents scanned, and at the end of a full
// scan, it sends a progress event: progress is the number of documents
// scanned, total the size of the corpus.
func (*Embedded) Search(ctx context.Context, q Query, send SendFunc) error {
	docs := corpus()
	total := float64(len(docs))
	// A word outside the vocabulary matches nothing; the scan still runs,
	// so that the stream has the same shape.
	var want wordSet
	known := true
	for _, w := range q.Words {
		i, ok := wordIndex[w]
		if !ok {
			known = false
			break
		}
		want.add(i)
	}
	matched := 0
	for i := range docs {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		d := &docs[i]
		if known && d.words.containsAll(&want) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := send(documentMessage(d.proto())); err != nil {
				return err
			}
			if matched++; matched == q.Limit {
				return nil
			}
		}
		if scanned := i + 1; scanned%progressEvery == 0 || scanned == len(docs) {
			if err := ctx.Err(); err != nil {
				return err
			}
			msg := fmt.Sprintf("scanned %d of %d documents, %d matches", scanned, len(docs), matched)
			if err := send(progressMessage(float64(scanned), total, msg)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Get returns the document with the given id, or [ErrNotFound].
func (*Embedded) Get(_ context.Context, id string) (*searchv1.Document, error) {
	docs := corpus()
	digits, ok := strings.CutPrefix(id, "doc-")
	if !ok {
		return nil, ErrNotFound
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > len(docs) || docs[n-1].id != id {
		return nil, ErrNotFound
	}
	return docs[n-1].proto(), nil
}

// Close does nothing: the corpus stays for the other stores.
func (*Embedded) Close() {}
