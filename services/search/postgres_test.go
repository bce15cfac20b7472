package search

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
)

// searchActivity returns the states of the search store's connections that
// are running a query or hold a transaction open.
func searchActivity(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT state FROM pg_stat_activity
		WHERE application_name = $1
		AND state IN ('active', 'idle in transaction')
		AND pid <> pg_backend_pid()`, testAppName)
	if err != nil {
		t.Fatalf("querying pg_stat_activity: %v", err)
	}
	states, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("querying pg_stat_activity: %v", err)
	}
	return states
}

// TestPostgresCancelEndsTransaction checks that cancelling a search cancels
// its query and rolls back its transaction: no connection of the store is
// left active or idle in transaction.
func TestPostgresCancelEndsTransaction(t *testing.T) {
	const method = "/examples.search.v1.SearchService/SearchDocuments"
	store := sharedPostgres(t)
	watcher, err := pgx.Connect(t.Context(), databaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(context.Background())
	waitFor(t, "no search connection busy before the test", func() bool { return len(searchActivity(t, watcher)) == 0 })

	// A fixed 64 KiB window, without BDP growth: the handler blocks in Send
	// once the client stops reading, with its cursor open.
	client, s := serve(t, store,
		grpc.WithInitialWindowSize(64<<10),
		grpc.WithInitialConnWindowSize(64<<10),
	)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream, err := client.SearchDocuments(ctx, &searchv1.SearchDocumentsRequest{Query: "river", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}

	// The test can see an open transaction: it is there while the stream is.
	waitFor(t, "the search's transaction to show as idle in transaction", func() bool {
		return slices.Contains(searchActivity(t, watcher), "idle in transaction")
	})
	var pid int32
	if err := watcher.QueryRow(t.Context(), `SELECT pid FROM pg_stat_activity
		WHERE application_name = $1 AND state = 'idle in transaction'`, testAppName).Scan(&pid); err != nil {
		t.Fatalf("finding the search's backend: %v", err)
	}
	if got := s.InFlight(method); got != 1 {
		t.Fatalf("in-flight searches = %v, want 1", got)
	}

	cancel()
	for {
		if _, err = stream.Recv(); err != nil {
			break
		}
	}
	if status.Code(err) != codes.Canceled {
		t.Errorf("stream after cancel: %v, want Canceled", err)
	}
	var left []string
	deadline := time.Now().Add(waitBound)
	for {
		if left = searchActivity(t, watcher); len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v after cancelling, search connections still %q", waitBound, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, "the handler to return", func() bool { return s.InFlight(method) == 0 })

	// The transaction was rolled back on its connection, which stays in the
	// pool, rather than ended by dropping the connection.
	var state string
	if err := watcher.QueryRow(t.Context(), "SELECT state FROM pg_stat_activity WHERE pid = $1", pid).Scan(&state); err != nil {
		t.Errorf("the search's backend %d is gone (%v): the connection was dropped, not rolled back", pid, err)
	} else if state != "idle" {
		t.Errorf("the search's backend %d is %q, want idle", pid, state)
	}

	// The pool is still usable.
	if _, err := store.Get(t.Context(), "doc-000001"); err != nil {
		t.Errorf("Get after a cancelled search: %v", err)
	}
}

// TestPostgresConcurrentSetUp starts several stores on an empty schema at
// once: the advisory lock lets one seed, and the others find the corpus.
func TestPostgresConcurrentSetUp(t *testing.T) {
	url := databaseURL(t)
	schema := newSchema()
	const starters = 3
	var wg sync.WaitGroup
	stores := make([]*Postgres, starters)
	errs := make([]error, starters)
	for i := range starters {
		wg.Go(func() {
			stores[i], errs[i] = OpenPostgres(t.Context(), url, &PostgresOptions{Schema: schema})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("starter %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var n int
	if err := stores[0].pool.QueryRow(t.Context(), "SELECT count(*) FROM "+stores[0].table.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != CorpusSize {
		t.Errorf("%d rows after concurrent starts, want %d", n, CorpusSize)
	}
	var app string
	if err := stores[1].pool.QueryRow(t.Context(), "SELECT current_setting('application_name')").Scan(&app); err != nil {
		t.Fatal(err)
	}
	if app != DefaultApplicationName {
		t.Errorf("application_name = %q, want %q", app, DefaultApplicationName)
	}
}

// TestOpenPostgresUnreachable needs no database: nothing listens on the
// address.
func TestOpenPostgresUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	p, err := OpenPostgres(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5", nil)
	if err == nil {
		p.Close()
		t.Fatal("OpenPostgres on a closed port succeeded")
	}
}
