package search

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVocabulary(t *testing.T) {
	if len(vocabulary) != 256 {
		t.Errorf("len(vocabulary) = %d, want 256", len(vocabulary))
	}
	lower := regexp.MustCompile(`^[a-z]+$`)
	seen := map[string]bool{}
	for _, w := range vocabulary {
		if !lower.MatchString(w) {
			t.Errorf("word %q is not lowercase ASCII letters", w)
		}
		if seen[w] {
			t.Errorf("word %q is listed twice", w)
		}
		seen[w] = true
	}
}

// corpusDigest is the SHA-256 of the corpus as corpusHash renders it.
// Databases are seeded once, so a change of the corpus leaves them behind:
// change it only on purpose, and update this digest then.
const corpusDigest = "02310d0905b557470ebbc0b7c0b8f7bc3b52059a7064dc61a0408dba405d129e"

func corpusHash(docs []document) string {
	h := sha256.New()
	for i := range docs {
		d := &docs[i]
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d\n", d.id, d.title, d.body, strings.Join(d.tags, ","), d.createdAt.Unix())
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestCorpusIsDeterministic(t *testing.T) {
	got := corpusHash(corpus())
	if again := corpusHash(generate(CorpusSize)); again != got {
		t.Fatalf("two generations differ: %s and %s", got, again)
	}
	if got != corpusDigest {
		t.Errorf("corpus digest = %s, want %s", got, corpusDigest)
	}
}

func TestCorpusShape(t *testing.T) {
	docs := corpus()
	if len(docs) != CorpusSize {
		t.Fatalf("len(corpus) = %d, want %d", len(docs), CorpusSize)
	}
	oldest := corpusEpoch.AddDate(-corpusYears, 0, -2)
	for i := range docs {
		d := &docs[i]
		if want := fmt.Sprintf("doc-%06d", i+1); d.id != want {
			t.Fatalf("docs[%d].id = %q, want %q", i, d.id, want)
		}
		if i > 0 && docs[i-1].id >= d.id {
			t.Fatalf("ids out of order at %d: %q then %q", i, docs[i-1].id, d.id)
		}
		if n := len(d.tags); n < 1 || n > 3 || !slices.IsSorted(d.tags) || len(slices.Compact(slices.Clone(d.tags))) != n {
			t.Fatalf("%s: tags %q: want 1 to 3 distinct tags in list order", d.id, d.tags)
		}
		if d.createdAt.After(corpusEpoch) || d.createdAt.Before(oldest) || d.createdAt.Location() != time.UTC {
			t.Fatalf("%s: created_at %v out of range", d.id, d.createdAt)
		}
		// The word set is what ParseQuery finds in the text: the embedded
		// store and PostgreSQL match the same documents.
		if diff := cmp.Diff(textWordSets()[i], d.words); diff != "" {
			t.Fatalf("%s: word set differs from the text (-text +set):\n%s", d.id, diff)
		}
	}
	if first := docs[0]; !strings.HasSuffix(first.body, ".") || first.title == "" || strings.ToUpper(first.title[:1]) != first.title[:1] {
		t.Errorf("first document looks wrong: %+v", first)
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		text   string
		limit  uint32
		want   Query
		wantOK bool
	}{
		{"river", 0, Query{Words: []string{"river"}, Limit: DefaultLimit}, true},
		{"River STREAM", 5, Query{Words: []string{"river", "stream"}, Limit: 5}, true},
		{"  river,stream!  river ", 1000, Query{Words: []string{"river", "stream"}, Limit: 1000}, true},
		{"doc-000042 x2", 1, Query{Words: []string{"doc", "000042", "x2"}, Limit: 1}, true},
		{"café", 1, Query{Words: []string{"caf"}, Limit: 1}, true},
		{"!!! ...", 3, Query{Limit: 3}, false},
		{"", 0, Query{Limit: DefaultLimit}, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, ok := ParseQuery(tt.text, tt.limit)
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseQuery(%q, %d) (-want +got):\n%s", tt.text, tt.limit, diff)
			}
		})
	}
}
