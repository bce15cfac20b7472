package search

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/grpc"

	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
)

// waitBound bounds every condition wait. It is generous: the conditions
// normally hold within milliseconds.
const waitBound = 10 * time.Second

// Tests that need PostgreSQL read DATABASE_URL. Unset, they skip; set, the
// database must be reachable or they fail.
var (
	pgOnce   sync.Once
	pgShared *Postgres
	pgErr    error
	// schemas are the schemas to drop at the end.
	schemasMu sync.Mutex
	schemas   []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pgShared != nil {
		pgShared.Close()
	}
	if err := dropSchemas(); err != nil {
		fmt.Fprintln(os.Stderr, "dropping test schemas:", err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// databaseURL returns DATABASE_URL, or skips t when it is unset.
func databaseURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Skip("DATABASE_URL is not set: skipping the PostgreSQL tests (set it to run them)")
	}
	return url
}

// newSchema returns a fresh schema name that TestMain drops.
func newSchema() string {
	s := "toolwire_test_" + randomHex(6)
	schemasMu.Lock()
	schemas = append(schemas, s)
	schemasMu.Unlock()
	return s
}

// testAppName is the application_name of this run's shared store, so that
// pg_stat_activity checks see this run's connections only, not those of
// another run, or of a demo, on the same database.
var testAppName = DefaultApplicationName + "-test-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)

// sharedPostgres returns a Postgres store in this run's schema, seeded on
// first use and shared by the tests.
func sharedPostgres(t testing.TB) *Postgres {
	t.Helper()
	url := databaseURL(t)
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		start := time.Now()
		pgShared, pgErr = OpenPostgres(ctx, url, &PostgresOptions{Schema: newSchema(), ApplicationName: testAppName})
		t.Logf("opened and seeded PostgreSQL in %v", time.Since(start))
	})
	if pgErr != nil {
		t.Fatalf("DATABASE_URL is set but PostgreSQL is not usable: %v", pgErr)
	}
	return pgShared
}

// dropSchemas drops the schemas the tests created.
func dropSchemas() error {
	url := os.Getenv("DATABASE_URL")
	if url == "" || len(schemas) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, s := range schemas {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
			return err
		}
	}
	return nil
}

// serve serves a Service over store through server.New, so that the
// interceptors run, on an in-memory listener.
func serve(t *testing.T, store Store, dialOpts ...grpc.DialOption) (searchv1.SearchServiceClient, *server.Server) {
	t.Helper()
	s := server.New(&server.Options{Registerer: prometheus.NewRegistry()})
	NewService(store, nil).Register(s.GRPC())
	conn := servertest.Dial(t, s, dialOpts...)
	return searchv1.NewSearchServiceClient(conn), s
}

// waitFor polls cond until it holds, or fails t after waitBound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitBound, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// textWordSets holds, for each document, the set of words ParseQuery finds
// in its title and body: computed from the text, independently of the word
// sets the generator records.
var textWordSets = sync.OnceValue(func() []wordSet {
	docs := corpus()
	sets := make([]wordSet, len(docs))
	for i := range docs {
		q, _ := ParseQuery(docs[i].title+" "+docs[i].body, 1)
		for _, w := range q.Words {
			k, ok := wordIndex[w]
			if !ok {
				panic(fmt.Sprintf("%s: word %q is not in the vocabulary", docs[i].id, w))
			}
			sets[i].add(k)
		}
	}
	return sets
})

// expectedIDs returns the ids of the first limit documents that contain
// every word of query, and the number of documents that do, using
// textWordSets.
func expectedIDs(query string, limit uint32) (ids []string, total int) {
	q, _ := ParseQuery(query, limit)
	var want []int
	for _, w := range q.Words {
		k, ok := wordIndex[w]
		if !ok {
			return nil, 0
		}
		want = append(want, k)
	}
	docs := corpus()
	for i, set := range textWordSets() {
		all := true
		for _, k := range want {
			all = all && set[k/64]&(1<<(k%64)) != 0
		}
		if all {
			total++
			if len(ids) < q.Limit {
				ids = append(ids, docs[i].id)
			}
		}
	}
	return ids, total
}
