package search

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// CorpusSize is the number of documents in the generated corpus.
const CorpusSize = 100_000

// corpusSeed seeds the generator. Changing it changes every document, and
// leaves already seeded databases with the old corpus.
const corpusSeed = 0x746f6f6c77697265 // "toolwire"

// corpusEpoch is the latest creation time; documents spread over the
// corpusYears years before it. It is fixed so that the corpus is the same
// on every run.
var corpusEpoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

const corpusYears = 8

// vocabulary is the fixed word list titles and bodies are drawn from. Its
// length is the bit size of [wordSet]; every word is lowercase ASCII letters.
var vocabulary = [...]string{
	"able", "account", "acid", "action", "active", "actor", "adapter", "agent", "alert", "algebra",
	"alpha", "anchor", "angle", "answer", "apple", "archive", "arrow", "array", "asset", "atlas",
	"atom", "audit", "author", "autumn", "axis", "badge", "balance", "bamboo", "banner", "barrel",
	"basin", "batch", "beacon", "berry", "binary", "blade", "blossom", "bluff", "boiler", "border",
	"bottle", "branch", "breeze", "bridge", "bronze", "bucket", "budget", "buffer", "cabin", "cable",
	"cache", "canvas", "canyon", "carbon", "castle", "cedar", "cell", "channel", "chapter", "cipher",
	"circle", "citadel", "clock", "cloud", "cluster", "coast", "cobalt", "codec", "column", "comet",
	"compass", "copper", "coral", "cotton", "crystal", "cursor", "dagger", "daisy", "dawn", "delta",
	"desert", "design", "dial", "digest", "domain", "dragon", "drift", "dune", "eagle", "echo",
	"ember", "engine", "epoch", "equator", "estuary", "event", "fabric", "falcon", "feather", "fern",
	"ferry", "fiber", "field", "filter", "flame", "fleet", "forest", "fossil", "fountain", "frame",
	"frost", "galaxy", "garden", "gate", "gauge", "glacier", "glider", "granite", "graph", "gravel",
	"grove", "guild", "harbor", "harvest", "helix", "heron", "hinge", "horizon", "hollow", "honey",
	"icon", "index", "inlet", "iris", "island", "ivory", "jacket", "jade", "jasmine", "journal",
	"jungle", "kernel", "kettle", "key", "kite", "ladder", "lagoon", "lantern", "laser", "lattice",
	"ledger", "lemon", "lens", "lever", "library", "lily", "linen", "lotus", "lumen", "magnet",
	"maple", "marble", "market", "meadow", "meteor", "mirror", "module", "monsoon", "mosaic", "motor",
	"nebula", "needle", "nest", "network", "nickel", "noble", "node", "nomad", "north", "oak",
	"oasis", "ocean", "olive", "onyx", "opal", "orbit", "orchid", "otter", "oxide", "packet",
	"paddle", "palace", "panel", "parcel", "pebble", "pepper", "pilot", "pine", "pixel", "planet",
	"plaza", "pocket", "portal", "prism", "pulse", "quartz", "query", "radar", "raven", "reactor",
	"reef", "relay", "ribbon", "ridge", "river", "rocket", "router", "saddle", "salmon", "schema",
	"sensor", "shadow", "signal", "silver", "socket", "spiral", "spruce", "stream", "summit", "table",
	"tablet", "tango", "temple", "thunder", "timber", "token", "tower", "trail", "tunnel", "union",
	"valley", "vector", "velvet", "vertex", "violet", "vortex", "voyage", "walnut", "willow", "window",
	"winter", "wizard", "zenith", "zephyr", "zinc", "zone",
}

// tagList is the fixed list of tags.
var tagList = [...]string{
	"archive", "databases", "design", "distributed-systems", "go", "guide",
	"networking", "news", "observability", "performance", "reference",
	"release-notes", "research", "security", "storage", "tutorial",
}

// wordSet is a set of vocabulary indexes: bit i is vocabulary[i].
type wordSet [(len(vocabulary) + 63) / 64]uint64

func (s *wordSet) add(i int) { s[i/64] |= 1 << (i % 64) }

// containsAll reports whether s holds every word of q.
func (s *wordSet) containsAll(q *wordSet) bool {
	for i := range s {
		if s[i]&q[i] != q[i] {
			return false
		}
	}
	return true
}

// document is one generated document, with the set of words of its title
// and body for matching.
type document struct {
	id, title, body string
	tags            []string
	createdAt       time.Time
	words           wordSet
}

// wordIndex maps a vocabulary word to its index.
var wordIndex = func() map[string]int {
	m := make(map[string]int, len(vocabulary))
	for i, w := range vocabulary {
		m[w] = i
	}
	return m
}()

// corpus returns the generated corpus of [CorpusSize] documents, generating
// it on first use. The documents are in id order, and document i has the id
// docID(i).
var corpus = sync.OnceValue(func() []document { return generate(CorpusSize) })

// docID returns the id of the i-th document, counting from 0.
func docID(i int) string { return fmt.Sprintf("doc-%06d", i+1) }

// rng is SplitMix64: tiny, fast, and fully specified here, so that the
// corpus does not depend on the Go version.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n). The modulo bias is negligible for the
// small n used here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// generate builds n documents deterministically. All titles and bodies are
// written into one buffer and sliced from a single string, which keeps the
// allocations few.
func generate(n int) []document {
	var capitalized [len(vocabulary)]string
	for i, w := range vocabulary {
		capitalized[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	r := rng(corpusSeed)
	docs := make([]document, n)
	type span struct{ title, body [2]int }
	spans := make([]span, n)
	var buf []byte
	buf = make([]byte, 0, n*300)
	tags := make([]string, 0, 3*n) // at most 3 per document
	const spanSeconds = corpusYears * 365 * 24 * 3600
	for i := range docs {
		d := &docs[i]
		d.id = docID(i)

		start := len(buf)
		for j, words := 0, r.between(3, 7); j < words; j++ {
			k := r.intn(len(vocabulary))
			d.words.add(k)
			if j == 0 {
				buf = append(buf, capitalized[k]...)
			} else {
				buf = append(buf, ' ')
				buf = append(buf, vocabulary[k]...)
			}
		}
		spans[i].title = [2]int{start, len(buf)}

		start = len(buf)
		for s, sentences := 0, r.between(2, 5); s < sentences; s++ {
			if s > 0 {
				buf = append(buf, ' ')
			}
			for j, words := 0, r.between(5, 12); j < words; j++ {
				k := r.intn(len(vocabulary))
				d.words.add(k)
				if j == 0 {
					buf = append(buf, capitalized[k]...)
				} else {
					buf = append(buf, ' ')
					buf = append(buf, vocabulary[k]...)
				}
			}
			buf = append(buf, '.')
		}
		spans[i].body = [2]int{start, len(buf)}

		first := r.intn(len(tagList))
		t0 := len(tags)
		tags = append(tags, tagList[first])
		// Up to two more distinct tags, in list order after the first.
		next := first
		for extra := r.intn(3); extra > 0; extra-- {
			next += 1 + r.intn(3)
			if next >= len(tagList) {
				break
			}
			tags = append(tags, tagList[next])
		}
		d.tags = tags[t0:len(tags):len(tags)]

		d.createdAt = corpusEpoch.Add(-time.Duration(r.intn(spanSeconds)) * time.Second)
	}
	text := string(buf)
	for i := range docs {
		docs[i].title = text[spans[i].title[0]:spans[i].title[1]]
		docs[i].body = text[spans[i].body[0]:spans[i].body[1]]
	}
	return docs
}
