package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TaskRedisURL is taskRedisURL, for the tests of edge_test.
var TaskRedisURL = taskRedisURL

// taskRedisURL returns REDIS_URL, checked to answer. Unset, the test is
// skipped, or fails with CI=true, where every Redis test must run.
func taskRedisURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		const why = "REDIS_URL is not set; set it (e.g. REDIS_URL=redis://127.0.0.1:6379/0)"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true requires this test: " + why)
		}
		t.Skip(why + " (with CI=true this is a failure)")
	}
	c := newTaskRedisClient(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("REDIS_URL is set but Redis does not answer: %v", err)
	}
	return url
}

// newTaskRedisClient is a client of url, closed when the test ends.
func newTaskRedisClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// taskTestPrefix is a Redis prefix no other test or run shares.
func taskTestPrefix(t *testing.T) string {
	return fmt.Sprintf("toolwire-test:%s:%d:", t.Name(), time.Now().UnixNano())
}

// newTestRedisTasks is a replica's store on c under prefix, closed when the
// test ends.
func newTestRedisTasks(t *testing.T, c redis.UniversalClient, prefix string, lease time.Duration) *redisTasks {
	t.Helper()
	s := newRedisTasks(newMemTasks(10, 10), c, prefix, lease, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func(*task, string, map[string]json.RawMessage) error { return nil })
	t.Cleanup(s.close)
	return s
}

func TestRedisTasksRoundTrip(t *testing.T) {
	url := taskRedisURL(t)
	c := newTaskRedisClient(t, url)
	prefix := taskTestPrefix(t)
	ctx := context.Background()
	const lease = time.Second
	a, b := newTestRedisTasks(t, c, prefix, lease), newTestRedisTasks(t, c, prefix, lease)

	created := time.Now().Truncate(time.Millisecond)
	x := &task{
		id: newTaskID(), owner: "apikey:alice", tool: "work", ttl: time.Minute,
		created: created, updated: created, status: taskWorking, cancel: func() {},
	}
	if err := a.add(x); err != nil {
		t.Fatal(err)
	}
	// Not yet published: no record.
	if _, err := b.get(ctx, x.id); !errors.Is(err, errNoTask) {
		t.Fatalf("unpublished task: %v", err)
	}
	a.changed(x, true)
	got, err := b.get(ctx, x.id)
	if err != nil {
		t.Fatal(err)
	}
	if got.remote != a.replica || got.owner != x.owner || got.tool != "work" || got.status != taskWorking ||
		got.ttl != time.Minute || !got.created.Equal(created) || got.cancel != nil {
		t.Errorf("snapshot = %+v", got)
	}
	// A running record expires TTL + lease after its last renewal.
	if ttl := c.PTTL(ctx, a.recordKey(x.id)).Val(); ttl <= time.Minute || ttl > time.Minute+lease {
		t.Errorf("running record's TTL = %v, want in (1m, 1m+%v]", ttl, lease)
	}
	// The owner answers from its memory.
	if own, _ := a.get(ctx, x.id); own != x {
		t.Error("the owner does not answer with its own task")
	}

	// Input requests, then an end with a result.
	x.mu.Lock()
	x.status, x.ask = taskInputRequired, &taskAsk{requests: map[string]json.RawMessage{"q": json.RawMessage(`{"method":"elicitation/create"}`)}}
	x.mu.Unlock()
	a.changed(x, true)
	got, _ = b.get(ctx, x.id)
	if got.status != taskInputRequired || got.ask == nil || string(got.ask.requests["q"]) != `{"method":"elicitation/create"}` {
		t.Errorf("input_required snapshot = %+v", got)
	}
	x.mu.Lock()
	x.status, x.ask, x.result, x.message = taskCompleted, nil, json.RawMessage(`{"content":[]}`), "done"
	x.mu.Unlock()
	a.ended(x)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ = b.get(ctx, x.id)
		if got.status == taskCompleted || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got.status != taskCompleted || string(got.result) != `{"content":[]}` || got.message != "done" || got.ask != nil {
		t.Errorf("completed snapshot = %+v", got)
	}
	// An ended record expires its TTL after the end.
	if ttl := c.PTTL(ctx, a.recordKey(x.id)).Val(); ttl <= 50*time.Second || ttl > time.Minute {
		t.Errorf("ended record's TTL = %v, want about 1m", ttl)
	}
}

func TestRedisTasksExpiry(t *testing.T) {
	c := newTaskRedisClient(t, taskRedisURL(t))
	prefix := taskTestPrefix(t)
	ctx := context.Background()
	a, b := newTestRedisTasks(t, c, prefix, time.Second), newTestRedisTasks(t, c, prefix, time.Second)
	x := &task{id: newTaskID(), ttl: 200 * time.Millisecond, status: taskWorking, cancel: func() {}}
	if err := a.add(x); err != nil {
		t.Fatal(err)
	}
	a.changed(x, true)
	x.mu.Lock()
	x.status = taskCompleted
	x.mu.Unlock()
	a.ended(x)
	// The write may wait a write interval.
	time.Sleep(taskWriteInterval + 50*time.Millisecond)
	if got, err := b.get(ctx, x.id); err != nil || got.status != taskCompleted {
		t.Fatalf("ended task: %+v, %v", got, err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := b.get(ctx, x.id); !errors.Is(err, errNoTask) {
		t.Errorf("expired task: %v, want errNoTask", err)
	}
	if n := c.Exists(ctx, a.recordKey(x.id)).Val(); n != 0 {
		t.Error("the expired record is still in Redis")
	}
}

// Progress is written at most once per write interval, and the last change
// is always written.
func TestRedisTasksCoalesce(t *testing.T) {
	c := newTaskRedisClient(t, taskRedisURL(t))
	prefix := taskTestPrefix(t)
	ctx := context.Background()
	a, b := newTestRedisTasks(t, c, prefix, time.Second), newTestRedisTasks(t, c, prefix, time.Second)
	x := &task{id: newTaskID(), ttl: time.Minute, status: taskWorking, cancel: func() {}}
	if err := a.add(x); err != nil {
		t.Fatal(err)
	}
	a.changed(x, true)
	start, before := time.Now(), a.writes.Load()
	for i := range 50 {
		x.mu.Lock()
		x.message = fmt.Sprint(i)
		x.mu.Unlock()
		a.changed(x, false)
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := b.get(ctx, x.id)
		if got.message == "49" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("last progress not written: %q", got.message)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A leading write, then one per interval, and the trailing one.
	if n, most := a.writes.Load()-before, int64(elapsed/taskWriteInterval)+2; n > most || n < 1 {
		t.Errorf("%d writes for 50 changes in %v, want 1 to %d", n, elapsed, most)
	}
}

// A reader that finds the owner's lease lapsed fails the task for good; the
// owner, back, learns it and cancels its call.
func TestRedisTasksLease(t *testing.T) {
	c := newTaskRedisClient(t, taskRedisURL(t))
	prefix := taskTestPrefix(t)
	ctx := context.Background()
	const lease = 300 * time.Millisecond
	a, b := newTestRedisTasks(t, c, prefix, lease), newTestRedisTasks(t, c, prefix, lease)
	cancelled := make(chan struct{})
	x := &task{id: newTaskID(), owner: "o", ttl: time.Minute, status: taskWorking, cancel: func() { close(cancelled) }}
	if err := a.add(x); err != nil {
		t.Fatal(err)
	}
	a.changed(x, true)
	// A lives: its task is working, renewal after renewal.
	time.Sleep(2 * lease)
	if got, err := b.get(ctx, x.id); err != nil || got.status != taskWorking {
		t.Fatalf("task of a live replica: %+v, %v", got, err)
	}
	// A's lease lapses (as if it were frozen).
	a.stop()
	time.Sleep(50 * time.Millisecond)
	c.Del(ctx, a.leaseKey(a.replica))
	got, err := b.get(ctx, x.id)
	if err != nil || got.status != taskFailed || got.message != msgReplicaGone || len(got.rpcErr) == 0 {
		t.Fatalf("task of a gone replica: %+v, %v", got, err)
	}
	// A's next write finds the record lost: the call is cancelled, and the
	// record stays failed.
	x.mu.Lock()
	x.message = "still going"
	x.mu.Unlock()
	a.changed(x, true)
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the owner did not cancel a lost task's call")
	}
	x.mu.Lock()
	status := x.status
	x.mu.Unlock()
	if status != taskFailed {
		t.Errorf("owner's status = %s", status)
	}
	if got, _ := b.get(ctx, x.id); got.status != taskFailed || got.message != msgReplicaGone {
		t.Errorf("after the owner's write: %+v", got)
	}
}
