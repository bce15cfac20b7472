package edge

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/redis/go-redis/v9"
)

// Tasks shared through Redis (TaskOptions.Redis). The call of a task runs in
// the replica that created it, its owner, as without Redis; what is shared
// is the task's record and a way to reach the owner:
//
//   - The record (status, statusMessage, timestamps, ttl, owner principal,
//     inlined result or error, pending inputRequests) is the field "rec" of
//     the hash <prefix>task:<id>, written by the owner on every change:
//     changes the client made (creation, tasks/update, tasks/cancel) before
//     the request is answered, the backend's (progress, input rounds, the
//     end) at most once per taskWriteInterval per task, the last one always
//     written. The key expires the task's TTL after it ended; while it
//     runs, TTL + lease after the owner last renewed it.
//   - The owner answers tasks/get for its tasks from its memory, which is
//     never behind Redis; another replica answers from the record.
//   - tasks/cancel and tasks/update on another replica go to the owner on
//     its channel <prefix>replica:<id> (pub/sub); the owner serves them as
//     its own, stores the record, and answers on a list the sender waits
//     on. An owner that does not answer within taskCommandTimeout gets the
//     client a -32603 error to retry.
//   - The owner renews its lease, the key <prefix>replica:<id>, every
//     Lease/3. A replica that reads a running task whose owner's lease has
//     lapsed marks the record failed ("the replica running the task went
//     away") and lost, for good: an owner that comes back finds its
//     records lost, and cancels their calls. A replica that closes fails
//     its running tasks ("... shut down") and gives up its lease.
//   - Caps on live and kept tasks count each replica's own tasks
//     (memTasks), and ownership (the creator's principal) is checked
//     against the record on every replica.

// Defaults for [TaskOptions] with Redis.
const (
	DefaultTaskRedisPrefix = "toolwire:tasks:"
	DefaultTaskLease       = 10 * time.Second
)

const (
	// taskWriteInterval spaces the writes of a task's record that its
	// backend causes.
	taskWriteInterval = 100 * time.Millisecond
	// taskRedisTimeout bounds one Redis operation of the task store.
	taskRedisTimeout = 2 * time.Second
	// taskCommandTimeout bounds the wait for an owner's answer to a
	// forwarded tasks/update or tasks/cancel.
	taskCommandTimeout = 5 * time.Second
)

// Statuses of tasks whose replica is gone.
const (
	msgReplicaGone    = "the replica running the task went away"
	msgReplicaStopped = "the replica running the task shut down"
)

// errReplicaSilent answers a forwarded request the owner did not answer.
var errReplicaSilent = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the replica running the task did not answer; try again"}

// writeScript stores an owner's record, unless a reader marked it lost:
// KEYS[1] is the record's hash, ARGV[1] the record, ARGV[2] its expiry in
// milliseconds. It returns 0 for a lost record, else 1.
var writeScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'lost') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

// loseScript marks a record lost, replacing it with ARGV[2], if it still is
// ARGV[1], the record read: KEYS[1] is its hash. It keeps the key's expiry,
// and returns 1 if it marked it.
var loseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'rec') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[2], 'lost', '1')
return 1`)

// taskRecord is a task's record in Redis.
type taskRecord struct {
	Owner         string          `json:"owner"`
	Replica       string          `json:"replica"`
	Tool          string          `json:"tool"`
	Status        string          `json:"status"`
	Message       string          `json:"statusMessage,omitempty"`
	Created       time.Time       `json:"createdAt"`
	Updated       time.Time       `json:"lastUpdatedAt"`
	TTLMs         int64           `json:"ttlMs"`
	Result        json.RawMessage `json:"result,omitempty"`
	Error         json.RawMessage `json:"error,omitempty"`
	InputRequests json.RawMessage `json:"inputRequests,omitempty"`
}

// taskCommand is a tasks/update or tasks/cancel forwarded to a task's
// owner; taskReply its answer.
type taskCommand struct {
	Op        string                     `json:"op"`
	Task      string                     `json:"task"`
	Owner     string                     `json:"owner"`
	Responses map[string]json.RawMessage `json:"responses,omitempty"`
	Reply     string                     `json:"reply"`
}

type taskReply struct {
	Error *jsonrpc.Error `json:"error,omitempty"`
}

// redisTasks is the taskStore shared through Redis. Its memTasks holds this
// replica's tasks, live controls and caps; Redis, every replica's records.
type redisTasks struct {
	*memTasks
	c       redis.UniversalClient
	prefix  string
	replica string
	lease   time.Duration
	logger  *slog.Logger
	// serve serves a command forwarded to one of this replica's tasks.
	serve func(t *task, op string, responses map[string]json.RawMessage) error

	mu sync.Mutex
	// owned are this replica's tasks whose record is not final in Redis:
	// running, or ended with a write pending.
	owned  map[string]*ownedTask
	closed bool
	// writes counts the records written.
	writes atomic.Int64

	ps   *redis.PubSub
	stop context.CancelFunc
	done sync.WaitGroup
}

// ownedTask is the writing state of one of this replica's tasks.
type ownedTask struct {
	t *task
	// wmu orders the record's writes: each writes the task as it is then.
	wmu sync.Mutex
	// Under redisTasks.mu: dirty says a change is not yet stored;
	// scheduled, that a write is coming; written, that the record exists;
	// last is when the last write began.
	dirty, scheduled, written bool
	last                      time.Time
}

// newRedisTasks returns the store of the tasks of mem shared through c,
// and starts renewing the replica's lease and serving commands for it.
func newRedisTasks(mem *memTasks, c redis.UniversalClient, prefix string, lease time.Duration, logger *slog.Logger,
	serve func(*task, string, map[string]json.RawMessage) error,
) *redisTasks {
	if prefix == "" {
		prefix = DefaultTaskRedisPrefix
	}
	if lease <= 0 {
		lease = DefaultTaskLease
	}
	s := &redisTasks{
		memTasks: mem, c: c, prefix: prefix, replica: newTaskID(), lease: lease,
		logger: logger, serve: serve, owned: map[string]*ownedTask{},
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.renew(ctx, false)
	s.ps = c.Subscribe(ctx, s.channel(s.replica))
	// Wait for the subscription, so that commands reach a replica that
	// serves; a Redis that does not answer yet is retried by the PubSub.
	rctx, cancel := context.WithTimeout(ctx, taskRedisTimeout)
	if _, err := s.ps.Receive(rctx); err != nil {
		logger.Warn("tasks: cannot subscribe in Redis; retrying", "error", err)
	}
	cancel()
	ch := s.ps.Channel()
	s.done.Add(2)
	go func() {
		defer s.done.Done()
		for m := range ch {
			go s.command(m.Payload)
		}
	}()
	go func() {
		defer s.done.Done()
		tick := time.NewTicker(lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s.renew(ctx, true)
			}
		}
	}()
	return s
}

func (s *redisTasks) recordKey(id string) string     { return s.prefix + "task:" + id }
func (s *redisTasks) leaseKey(replica string) string { return s.prefix + "replica:" + replica }
func (s *redisTasks) channel(replica string) string  { return s.prefix + "replica:" + replica }

func (s *redisTasks) add(t *task) error {
	if err := s.memTasks.add(t); err != nil {
		return err
	}
	s.mu.Lock()
	s.owned[t.id] = &ownedTask{t: t}
	s.mu.Unlock()
	return nil
}

func (s *redisTasks) ended(t *task) {
	s.memTasks.ended(t)
	s.changed(t, false)
}

func (s *redisTasks) remove(t *task) {
	s.memTasks.remove(t)
	s.mu.Lock()
	o := s.owned[t.id]
	delete(s.owned, t.id)
	s.mu.Unlock()
	if o == nil {
		return
	}
	o.wmu.Lock()
	defer o.wmu.Unlock()
	s.mu.Lock()
	written := o.written
	s.mu.Unlock()
	if written {
		ctx, cancel := context.WithTimeout(context.Background(), taskRedisTimeout)
		defer cancel()
		_ = s.c.Del(ctx, s.recordKey(t.id)).Err()
	}
}

// changed stores t's record: an urgent change now, others once
// taskWriteInterval has passed since the last write.
func (s *redisTasks) changed(t *task, urgent bool) {
	s.mu.Lock()
	o := s.owned[t.id]
	if o == nil || s.closed {
		s.mu.Unlock()
		return
	}
	o.dirty = true
	if urgent {
		s.mu.Unlock()
		_ = s.write(o)
		return
	}
	if o.scheduled {
		s.mu.Unlock()
		return
	}
	o.scheduled = true
	wait := taskWriteInterval - time.Since(o.last)
	s.mu.Unlock()
	if wait <= 0 {
		go func() { _ = s.write(o) }()
		return
	}
	time.AfterFunc(wait, func() { _ = s.write(o) })
}

// write stores o's record as it is now. A failed write leaves it dirty, for
// the next renewal to retry.
func (s *redisTasks) write(o *ownedTask) error {
	o.wmu.Lock()
	defer o.wmu.Unlock()
	t := o.t
	s.mu.Lock()
	if !o.dirty || s.closed {
		o.scheduled = false
		s.mu.Unlock()
		return nil
	}
	o.dirty, o.scheduled, o.last = false, false, time.Now()
	s.mu.Unlock()

	t.mu.Lock()
	rec := s.record(t)
	t.mu.Unlock()
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	final := terminal(rec.Status)
	expiry := t.ttl
	if !final {
		expiry += s.lease
	}
	ctx, cancel := context.WithTimeout(context.Background(), taskRedisTimeout)
	defer cancel()
	n, err := writeScript.Run(ctx, s.c, []string{s.recordKey(t.id)}, body, expiry.Milliseconds()).Int()
	s.mu.Lock()
	if err != nil {
		o.dirty = true
	} else {
		o.written = true
		s.writes.Add(1)
	}
	if final && !o.dirty && s.owned[t.id] == o {
		delete(s.owned, t.id)
	}
	s.mu.Unlock()
	if err != nil {
		s.logger.Warn("tasks: cannot store a task in Redis; retrying", "task", t.id, "error", err)
		return err
	}
	if n == 0 {
		s.lost(t, msgReplicaGone, true)
	}
	return nil
}

// record is t's record; t.mu is held.
func (s *redisTasks) record(t *task) *taskRecord {
	rec := &taskRecord{
		Owner: t.owner, Replica: s.replica, Tool: t.tool, Status: t.status, Message: t.message,
		Created: t.created, Updated: t.updated, TTLMs: t.ttl.Milliseconds(),
		Result: t.result, Error: t.rpcErr,
	}
	if t.status == taskInputRequired && t.ask != nil {
		rec.InputRequests = t.ask.requestsJSON()
	}
	return rec
}

// lost fails t, one of this replica's tasks that another replica declared
// lost (force: even if it has ended since, to agree with its record) or
// that this one gives up, with msg, and cancels its call.
func (s *redisTasks) lost(t *task, msg string, force bool) {
	t.mu.Lock()
	live := !terminal(t.status)
	if live || (force && t.message != msg) {
		t.status, t.message, t.result, t.ask, t.updated = taskFailed, msg, nil, nil, time.Now()
		t.rpcErr = goneError(msg)
	}
	t.mu.Unlock()
	if live && t.cancel != nil {
		t.cancel()
	}
}

// goneError is the error of a task failed because its replica went away.
func goneError(msg string) json.RawMessage {
	e, _ := json.Marshal(&jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg + " before the task ended"})
	return e
}

// get returns this replica's task id, or another's as its record reads.
// A running task whose owner's lease has lapsed is marked failed first.
func (s *redisTasks) get(ctx context.Context, id string) (*task, error) {
	if t, ok := s.local(id); ok {
		return t, nil
	}
	ctx, cancel := context.WithTimeout(ctx, taskRedisTimeout)
	defer cancel()
	raw, rec, err := s.read(ctx, id)
	if err != nil {
		return nil, err
	}
	if !terminal(rec.Status) && rec.Replica != s.replica {
		alive, err := s.c.Exists(ctx, s.leaseKey(rec.Replica)).Result()
		if err != nil {
			return nil, err
		}
		if alive == 0 {
			gone := *rec
			gone.Status, gone.Message, gone.Updated = taskFailed, msgReplicaGone, time.Now()
			gone.Result, gone.InputRequests, gone.Error = nil, nil, goneError(msgReplicaGone)
			body, _ := json.Marshal(&gone)
			n, err := loseScript.Run(ctx, s.c, []string{s.recordKey(id)}, raw, body).Int()
			switch {
			case err != nil:
				return nil, err
			case n == 1:
				s.logger.Info("tasks: a task's replica went away", "task", id, "replica", rec.Replica)
				rec = &gone
			default:
				// The record changed meanwhile: read it again.
				if _, rec, err = s.read(ctx, id); err != nil {
					return nil, err
				}
			}
		}
	}
	return snapshot(id, rec), nil
}

// read reads the record of task id, raw and decoded.
func (s *redisTasks) read(ctx context.Context, id string) (string, *taskRecord, error) {
	raw, err := s.c.HGet(ctx, s.recordKey(id), "rec").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil, errNoTask
	}
	if err != nil {
		return "", nil, err
	}
	var rec taskRecord
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		return "", nil, err
	}
	return raw, &rec, nil
}

// snapshot is the task rec records, as another replica's.
func snapshot(id string, rec *taskRecord) *task {
	t := &task{
		id: id, owner: rec.Owner, tool: rec.Tool, ttl: time.Duration(rec.TTLMs) * time.Millisecond,
		created: rec.Created, remote: rec.Replica,
		status: rec.Status, message: rec.Message, updated: rec.Updated,
		result: rec.Result, rpcErr: rec.Error,
	}
	if rec.Status == taskInputRequired && len(rec.InputRequests) > 0 {
		a := &taskAsk{}
		if json.Unmarshal(rec.InputRequests, &a.requests) == nil {
			t.ask = a
		}
	}
	return t
}

// forward sends op for t to its owner, and waits for the answer.
func (s *redisTasks) forward(ctx context.Context, t *task, op string, responses map[string]json.RawMessage) error {
	cmd := taskCommand{Op: op, Task: t.id, Owner: t.owner, Responses: responses, Reply: s.prefix + "reply:" + newTaskID()}
	body, err := json.Marshal(&cmd)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, taskCommandTimeout+time.Second)
	defer cancel()
	n, err := s.c.Publish(ctx, s.channel(t.remote), body).Result()
	if err != nil {
		s.logger.Warn("tasks: cannot forward a request", "task", t.id, "op", op, "error", err)
		return errTaskStore
	}
	if n == 0 {
		return errReplicaSilent
	}
	out, err := s.c.BLPop(ctx, taskCommandTimeout, cmd.Reply).Result()
	if err != nil || len(out) != 2 {
		return errReplicaSilent
	}
	var reply taskReply
	if err := json.Unmarshal([]byte(out[1]), &reply); err != nil {
		return errReplicaSilent
	}
	if reply.Error != nil {
		return reply.Error
	}
	return nil
}

// command serves a command another replica forwarded, and answers it.
func (s *redisTasks) command(payload string) {
	var cmd taskCommand
	if err := json.Unmarshal([]byte(payload), &cmd); err != nil || cmd.Reply == "" {
		return
	}
	var reply taskReply
	t, ok := s.local(cmd.Task)
	switch {
	case !ok || t.owner != cmd.Owner:
		reply.Error = errUnknownTask
	default:
		if err := s.serve(t, cmd.Op, cmd.Responses); err != nil {
			var je *jsonrpc.Error
			if !errors.As(err, &je) {
				je = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error"}
			}
			reply.Error = je
		}
	}
	body, _ := json.Marshal(&reply)
	ctx, cancel := context.WithTimeout(context.Background(), taskRedisTimeout)
	defer cancel()
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, cmd.Reply, body)
		p.PExpire(ctx, cmd.Reply, 2*taskCommandTimeout)
		return nil
	})
	if err != nil {
		s.logger.Warn("tasks: cannot answer a forwarded request", "task", cmd.Task, "error", err)
	}
}

// renew renews the replica's lease and its running tasks' records, and
// retries the writes that failed. If the lease had lapsed (and another
// replica may have declared tasks lost), checkLost looks for them.
func (s *redisTasks) renew(ctx context.Context, checkLost bool) {
	ctx, cancel := context.WithTimeout(ctx, taskRedisTimeout)
	defer cancel()
	err := s.c.SetArgs(ctx, s.leaseKey(s.replica), "1", redis.SetArgs{TTL: s.lease, Get: true}).Err()
	lapsed := errors.Is(err, redis.Nil)
	if err != nil && !lapsed {
		s.logger.Warn("tasks: cannot renew the replica's lease in Redis", "error", err)
		return
	}
	s.mu.Lock()
	var live, dirty []*ownedTask
	for _, o := range s.owned {
		if o.dirty && !o.scheduled {
			dirty = append(dirty, o)
		} else if o.written {
			live = append(live, o)
		}
	}
	s.mu.Unlock()
	if len(live) > 0 {
		lost := make([]*redis.BoolCmd, len(live))
		_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, o := range live {
				p.PExpire(ctx, s.recordKey(o.t.id), o.t.ttl+s.lease)
				if checkLost && lapsed {
					lost[i] = p.HExists(ctx, s.recordKey(o.t.id), "lost")
				}
			}
			return nil
		})
		for i, o := range live {
			if lost[i] != nil && lost[i].Val() {
				s.logger.Warn("tasks: another replica declared a task of this one lost", "task", o.t.id)
				s.lost(o.t, msgReplicaGone, true)
			}
		}
	}
	for _, o := range dirty {
		_ = s.write(o)
	}
}

// close fails this replica's running tasks, stores them, and gives up the
// lease and the channel.
func (s *redisTasks) close() {
	s.mu.Lock()
	owned := make([]*ownedTask, 0, len(s.owned))
	for _, o := range s.owned {
		owned = append(owned, o)
	}
	s.mu.Unlock()
	for _, o := range owned {
		s.lost(o.t, msgReplicaStopped, false)
		s.mu.Lock()
		o.dirty = true
		written := o.written
		s.mu.Unlock()
		if written {
			_ = s.write(o)
		}
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop()
	_ = s.ps.Close()
	s.done.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), taskRedisTimeout)
	defer cancel()
	_ = s.c.Del(ctx, s.leaseKey(s.replica)).Err()
}
