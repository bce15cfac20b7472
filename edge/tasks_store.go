package edge

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"sync"
	"time"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// Where tasks live (tasks.go). A task is a gRPC call the edge keeps running
// after the request that started it was answered, and its record: status,
// status message, timestamps, and once it ends its inlined result or error.
// The call lives in the replica that started it (its owner): it holds a
// stream to the backend, which tasks/cancel and tasks/update must reach. The
// records sit behind taskStore: kept in memory here (memTasks, one replica),
// or shared through Redis (redisTasks, tasks_redis.go), which routes
// tasks/cancel and tasks/update to the owner.

// Task statuses (SEP-2663).
const (
	taskWorking       = "working"
	taskInputRequired = "input_required"
	taskCompleted     = "completed"
	taskFailed        = "failed"
	taskCancelled     = "cancelled"
)

// errTooManyTasks is what a full store says; errNoTask, a store that does
// not hold the task.
var (
	errTooManyTasks = errors.New("too many tasks")
	errNoTask       = errors.New("no such task")
)

// taskStore holds an edge's tasks by id. Implementations are safe for
// concurrent use. The caps on live and kept tasks count this replica's
// tasks only.
type taskStore interface {
	// add stores t under t.id, or fails with errTooManyTasks when the store
	// holds its maximum of live (running) or kept tasks.
	add(t *task) error
	// get returns the task id, if it is held and has not expired: this
	// replica's own, or a snapshot of another replica's record (its remote
	// field set). It fails with errNoTask, or with the store's error.
	get(ctx context.Context, id string) (*task, error)
	// changed tells the store that t's record changed: an urgent change is
	// stored before changed returns, others within the store's write
	// interval.
	changed(t *task, urgent bool)
	// ended tells the store that t has reached a terminal status: it no
	// longer counts as live, and expires t.ttl after now.
	ended(t *task)
	// remove drops t, which has not ended and never will be a task (a call
	// that answered its request itself).
	remove(t *task)
	// forward sends op ("cancel" or "update", with responses) to the
	// replica that runs the remote task t, and returns its answer.
	forward(ctx context.Context, t *task, op string, responses map[string]json.RawMessage) error
	// close stops the store's own work, once the edge closes.
	close()
}

// task is one task: the running call's controls and its record.
type task struct {
	id string
	// owner is who created the task (ownerOf); only they see it.
	owner string
	tool  string
	// ttl is how long the task stays readable once it has ended.
	ttl     time.Duration
	created time.Time
	// cancel cancels the call; nil for a remote task.
	cancel func()
	// remote is the replica that runs the task, for a snapshot of another
	// replica's record (tasks_redis.go); empty for this replica's tasks.
	remote string

	mu      sync.Mutex
	status  string
	message string
	updated time.Time
	// result (completed) and rpcErr (failed) are inlined in tasks/get, as
	// JSON: a CallToolResult, a JSON-RPC error object.
	result, rpcErr json.RawMessage
	// expires is when an ended task is dropped; zero while it runs.
	expires time.Time
	// ask is the input round the call waits on, nil when none
	// (tasks_run.go).
	ask *taskAsk
}

// taskAsk is one input round of a task's call, waiting for tasks/update.
type taskAsk struct {
	// requests are the round's questions, by key, as JSON for tasks/get;
	// the answered ones are removed.
	requests map[string]json.RawMessage
	// kinds are the questions as the backend sent them, to check and
	// convert answers.
	kinds map[string]*mcpv1.InputRequest
	// answers are the answers so far.
	answers *mcpv1.InputResponses
	// done is closed once every question is answered.
	done chan struct{}
}

// newTaskID returns a fresh, unguessable task id.
func newTaskID() string { return rand.Text() }

// terminal reports whether status is a final one.
func terminal(status string) bool {
	return status == taskCompleted || status == taskFailed || status == taskCancelled
}

// memTasks is the in-memory taskStore. It holds at most maxLive running
// tasks and maxKept tasks in all; ended tasks are dropped once expired,
// looked for when the store is full and every so often.
type memTasks struct {
	maxLive, maxKept int
	now              func() time.Time

	mu    sync.Mutex
	tasks map[string]*task
	live  int
	// sweepAt is when the next sweep for expired tasks is due.
	sweepAt time.Time
}

// sweepEvery spaces sweeps of the memory store.
const sweepEvery = time.Minute

func newMemTasks(maxLive, maxKept int) *memTasks {
	return &memTasks{maxLive: maxLive, maxKept: maxKept, now: time.Now, tasks: map[string]*task{}}
}

func (s *memTasks) add(t *task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.tasks) >= s.maxKept || now.After(s.sweepAt) {
		s.sweep(now)
	}
	if s.live >= s.maxLive || len(s.tasks) >= s.maxKept {
		return errTooManyTasks
	}
	s.tasks[t.id] = t
	s.live++
	return nil
}

func (s *memTasks) get(_ context.Context, id string) (*task, error) {
	if t, ok := s.local(id); ok {
		return t, nil
	}
	return nil, errNoTask
}

// local returns this replica's task id, if it has not expired.
func (s *memTasks) local(id string) (*task, bool) {
	s.mu.Lock()
	t, ok := s.tasks[id]
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	t.mu.Lock()
	expired := !t.expires.IsZero() && s.now().After(t.expires)
	t.mu.Unlock()
	return t, !expired
}

func (s *memTasks) ended(t *task) {
	now := s.now()
	t.mu.Lock()
	t.expires = now.Add(t.ttl)
	t.mu.Unlock()
	s.mu.Lock()
	s.live--
	s.mu.Unlock()
}

func (s *memTasks) changed(*task, bool) {}

func (s *memTasks) forward(context.Context, *task, string, map[string]json.RawMessage) error {
	return errNoTask
}

func (s *memTasks) close() {}

func (s *memTasks) remove(t *task) {
	s.mu.Lock()
	delete(s.tasks, t.id)
	s.live--
	s.mu.Unlock()
}

// sweep drops the expired tasks; s.mu is held.
func (s *memTasks) sweep(now time.Time) {
	s.sweepAt = now.Add(sweepEvery)
	for id, t := range s.tasks {
		t.mu.Lock()
		expired := !t.expires.IsZero() && now.After(t.expires)
		t.mu.Unlock()
		if expired {
			delete(s.tasks, id)
		}
	}
}
