package search

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
)

// DefaultApplicationName is the application_name the [Postgres] store sets
// on its connections, so that they can be found in pg_stat_activity.
const DefaultApplicationName = "toolwire-search"

const (
	// fetchBatch is how many rows each FETCH reads from the cursor.
	fetchBatch = 100
	// cleanupTimeout bounds the rollback that ends a search, which runs
	// even when the call was cancelled.
	cleanupTimeout = 5 * time.Second
	// cancelDeadlineDelay is how long a cancelled query has to stop after
	// the cancel request before pgx closes its connection.
	cancelDeadlineDelay = 2 * time.Second
)

// wordsSQL splits a document into words the way [ParseQuery] splits a
// query. A GIN expression index on it serves the match.
const wordsSQL = `regexp_split_to_array(lower(title || ' ' || body), '[^a-z0-9]+')`

// matchSQL is true for a row that contains every word of $1.
const matchSQL = wordsSQL + ` @> $1::text[]`

// PostgresOptions configure [OpenPostgres]. A nil *PostgresOptions means
// the defaults.
type PostgresOptions struct {
	// Schema holds the documents table; it is created if missing. Empty
	// means the connection's search_path (normally public), which is not
	// created.
	Schema string
	// ApplicationName is set on every connection. Empty means
	// [DefaultApplicationName].
	ApplicationName string
	// Logger receives cleanup failures and seeding notes. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Postgres is a [Store] over a PostgreSQL table "documents" (id text
// primary key, title, body, tags text[], created_at timestamptz), read with
// pgx. Create one with [OpenPostgres].
type Postgres struct {
	pool   *pgxpool.Pool
	table  pgx.Identifier
	logger *slog.Logger
}

// OpenPostgres connects to the database at databaseURL, creates the
// documents table if it is missing, and seeds it with the generated corpus
// if it is empty. Concurrent starters wait for each other on an advisory
// lock, so the corpus is loaded once. Close the store when done.
func OpenPostgres(ctx context.Context, databaseURL string, opts *PostgresOptions) (_ *Postgres, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("search: postgres: %w", err)
		}
	}()
	if opts == nil {
		opts = &PostgresOptions{}
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	app := opts.ApplicationName
	if app == "" {
		app = DefaultApplicationName
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	// On cancellation, ask the server to cancel the running query, rather
	// than only dropping the connection, which leaves the query running
	// until it next writes to the socket.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelDeadlineDelay}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p := &Postgres{pool: pool, table: pgx.Identifier{"documents"}, logger: opts.Logger}
	if opts.Schema != "" {
		p.table = pgx.Identifier{opts.Schema, "documents"}
	}
	if p.logger == nil {
		p.logger = slog.Default()
	}
	if err := p.setUp(ctx, opts.Schema); err != nil {
		pool.Close()
		return nil, err
	}
	return p, nil
}

// setUp creates the schema, table and word index if missing and seeds an
// empty table, in one transaction under an advisory lock keyed by the table
// name.
func (p *Postgres) setUp(ctx context.Context, schema string) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer p.rollback(ctx, tx)

	h := fnv.New64a()
	h.Write([]byte("toolwire-search:" + p.table.Sanitize()))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
		return err
	}
	if schema != "" {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+p.table.Sanitize()+` (
		id text PRIMARY KEY,
		title text NOT NULL,
		body text NOT NULL,
		tags text[] NOT NULL DEFAULT '{}',
		created_at timestamptz NOT NULL
	)`); err != nil {
		return err
	}
	var seeded bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+p.table.Sanitize()+")").Scan(&seeded); err != nil {
		return err
	}
	if !seeded {
		start := time.Now()
		docs := corpus()
		n, err := tx.CopyFrom(ctx, p.table, []string{"id", "title", "body", "tags", "created_at"},
			pgx.CopyFromSlice(len(docs), func(i int) ([]any, error) {
				d := &docs[i]
				return []any{d.id, d.title, d.body, d.tags, d.createdAt}, nil
			}))
		if err != nil {
			return err
		}
		p.logger.InfoContext(ctx, "seeded the search corpus",
			slog.String("table", p.table.Sanitize()), slog.Int64("rows", n), slog.Duration("took", time.Since(start)))
	}
	// After the load, which is faster without the index. CREATE INDEX
	// takes its name in the table's schema.
	if _, err := tx.Exec(ctx, `CREATE INDEX IF NOT EXISTS documents_words_idx ON `+p.table.Sanitize()+
		` USING gin ((`+wordsSQL+`))`); err != nil {
		return err
	}
	if !seeded {
		if _, err := tx.Exec(ctx, "ANALYZE "+p.table.Sanitize()); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// rollback ends tx, if it is still open, even when ctx is done.
func (p *Postgres) rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		p.logger.WarnContext(ctx, "search: rollback failed", slog.Any("error", err))
	}
}

// Search reads the matching documents from a server-side cursor in a
// read-only transaction, 100 rows at a time. After each batch it
// sends a progress event: progress is the number of matches so far, total
// the limit. When ctx ends, the running query is cancelled and the
// transaction rolled back.
func (p *Postgres) Search(ctx context.Context, q Query, send SendFunc) error {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer p.rollback(ctx, tx)

	// Plan for the whole result, not for its first tenth as cursors do by
	// default, and for these words, not for any: both make PostgreSQL use
	// the word index, where a scan in id order would split every document
	// of a query that matches little.
	if _, err := tx.Exec(ctx, `SELECT set_config('cursor_tuple_fraction', '1', true),
		set_config('plan_cache_mode', 'force_custom_plan', true)`); err != nil {
		return err
	}
	// No LIMIT: it would make a scan in id order look cheap. The loop
	// fetches no more than the limit.
	if _, err := tx.Exec(ctx, `DECLARE toolwire_search NO SCROLL CURSOR FOR
		SELECT id, title, body, tags, created_at FROM `+p.table.Sanitize()+`
		WHERE `+matchSQL+`
		ORDER BY id`, q.Words); err != nil {
		return err
	}
	matched := 0
	for matched < q.Limit {
		n := min(fetchBatch, q.Limit-matched)
		rows, err := tx.Query(ctx, fmt.Sprintf("FETCH %d FROM toolwire_search", n))
		if err != nil {
			return err
		}
		docs, err := pgx.CollectRows(rows, scanDocument)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := send(documentMessage(d)); err != nil {
				return err
			}
		}
		if len(docs) == 0 {
			break
		}
		matched += len(docs)
		msg := fmt.Sprintf("%d matches", matched)
		if err := send(progressMessage(float64(matched), float64(q.Limit), msg)); err != nil {
			return err
		}
		if len(docs) < n {
			break
		}
	}
	return nil
}

// Get returns the document with the given id, or [ErrNotFound].
func (p *Postgres) Get(ctx context.Context, id string) (*searchv1.Document, error) {
	rows, err := p.pool.Query(ctx, "SELECT id, title, body, tags, created_at FROM "+p.table.Sanitize()+" WHERE id = $1", id)
	if err != nil {
		return nil, err
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDocument)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return d, err
}

// Close closes the connection pool.
func (p *Postgres) Close() { p.pool.Close() }

func scanDocument(row pgx.CollectableRow) (*searchv1.Document, error) {
	var (
		d         searchv1.Document
		createdAt time.Time
	)
	if err := row.Scan(&d.Id, &d.Title, &d.Body, &d.Tags, &createdAt); err != nil {
		return nil, err
	}
	d.CreatedAt = timestamppb.New(createdAt)
	return &d, nil
}
