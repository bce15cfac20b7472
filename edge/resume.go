package edge

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Resuming a session's standalone GET stream (Last-Event-ID), 2025-03-26 to
// 2025-11-25.
//
// The spec (2025-11-25, "Resumability and Redelivery") lets a server put an
// id on each SSE event, unique within the session and naming its stream, and
// a client that lost a stream send a GET with Last-Event-ID; the server may
// then replay what it sent after that event on that stream, and never what
// belongs to another. The SDK does this only with an EventStore, and then for
// every stream of every session: the standalone stream and each POST's, with
// ids "<stream>_<index>" (the standalone stream is ""), keeping each stream's
// events until the session closes, purged process-wide past a byte bound.
// An id it cannot replay from gets 400 ("failed to replay events"), as a
// malformed one does; a resumed POST stream gets its call's answer later.
//
// The edge serves the standalone GET stream itself (getstream.go) and the
// SDK has no EventStore, so the edge does it for that stream, the one
// clients hold open and resume:
//
//   - Each message on it gets the SDK's id form, "_N", N counting from 1 per
//     session across its streams, and goes into the session's history
//     (eventLog) before it is written, whether or not a stream is open.
//     History starts with the session's first GET stream the edge serves
//     (before that nothing would be delivered to resume from) and is bounded
//     per session by count and bytes (resumeMaxEvents, resumeMaxBytes),
//     oldest dropped first; a session to which nothing was sent holds only
//     eventLog's few words.
//   - A GET stream of a 2025-11-25 session starts with a priming event, an id
//     and empty data (as the spec asks of a stream the server may close), so
//     that a client can resume even a stream that carried nothing yet.
//   - A GET with Last-Event-ID "_N" gets, on a new stream, every event after
//     N still held, in order, once, then the live ones. It replaces a stream
//     still open on the session (most likely the same client's, whose broken
//     connection no write has found yet), which a GET without it would get
//     409 for. An id the history no longer holds, or never held, gets the
//     SDK's 400 "failed to replay events"; a malformed one its 400 "malformed
//     Last-Event-ID", so that a client learns its events are lost rather than
//     silently missing them.
//
// POST response streams are not resumable, by choice. The edge treats a POST
// whose client went away as the cancellation of its call (cancel.go), which
// is what its users asked for and what its cancellation figures measure; the
// spec's SHOULD NOT (2025-era disconnection is not cancellation) yields to
// that. With the call cancelled there is nothing to resume, so POST streams
// carry no ids (neither the fast path's nor the SDK's, which has no
// EventStore) and clients do not try.
//
// GET streams the SDK serves (HTTP/2, which cannot be taken over, or
// Options.SDKOnly) carry no ids either, and a Last-Event-ID the edge cannot
// serve reaches the SDK, which answers 400 "stream replay unsupported".

const (
	// resumeMaxEvents and resumeMaxBytes bound a session's history.
	resumeMaxEvents = 64
	resumeMaxBytes  = 16 << 10
)

// eventLog is a session's standalone stream history, its next event id and
// the lock that orders the stream's events.
type eventLog struct {
	// mu orders the stream's events: it is held while an event is numbered,
	// kept and written, and while a stream is attached and primed or
	// replayed to. It is taken before the session's mu and the writer's.
	mu sync.Mutex
	// on says the edge has served a GET stream of the session: events are
	// kept from then on.
	on bool
	// next is the id of the next event; ids start at 1, so "_0" is the
	// position before the first.
	next uint64
	// events are the latest events, framed for the wire, oldest first: the
	// last has id next-1. size is their total length.
	events [][]byte
	size   int
}

// first is the id of the oldest event held (next when none is).
func (l *eventLog) first() uint64 { return l.next - uint64(len(l.events)) }

// keep adds ev, the framed event with id next, and drops the oldest past
// the bounds. Requires l.mu.
func (l *eventLog) keep(ev []byte) {
	l.next++
	if len(ev) > resumeMaxBytes {
		// Too large to hold: everything before it is unreplayable too.
		clear(l.events)
		l.events, l.size = l.events[:0], 0
		return
	}
	drop := 0
	for len(l.events)-drop >= resumeMaxEvents || l.size+len(ev) > resumeMaxBytes {
		l.size -= len(l.events[drop])
		drop++
	}
	if drop > 0 {
		n := copy(l.events, l.events[drop:])
		clear(l.events[n:])
		l.events = l.events[:n]
	}
	l.events = append(l.events, ev)
	l.size += len(ev)
}

// off forgets the history: the SDK serves the session's GET stream now,
// and the edge's ids mean nothing to it. Ids go on from next, should the
// edge serve the stream again.
func (l *eventLog) off() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on, l.events, l.size = false, nil, 0
}

// publish sends msg, one JSON-RPC message, on s's standalone stream: it
// numbers it, keeps it for replay and writes it to the stream the edge
// serves, if one is open (a failed write ends that stream, and the event
// waits for the client's return). It reports false, doing nothing, when the
// edge has never served the session's stream, whose messages are then the
// SDK's.
func (s *liveSession) publish(msg []byte) bool {
	l := &s.events
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.on {
		return false
	}
	ev := make([]byte, 0, len(msg)+48)
	ev = append(ev, "event: message\nid: _"...)
	ev = strconv.AppendUint(ev, l.next, 10)
	ev = append(ev, "\ndata: "...)
	ev = append(ev, msg...)
	ev = append(ev, "\n\n"...)
	l.keep(ev)
	if hw := s.stream(); hw != nil {
		_, _ = hw.Write(ev)
	}
	return true
}

// serving reports whether the edge has served the session's stream, and so
// numbers and keeps its events.
func (l *eventLog) serving() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.on
}

// parseResumeID parses a Last-Event-ID the edge may have given: "_N".
// Other well-formed ids ("<stream>_<index>", the SDK's form) name no stream
// the edge has; ok is false only for malformed ones, as the SDK judges them.
func parseResumeID(v string) (n uint64, ours, ok bool) {
	stream, idx, found := strings.Cut(v, "_")
	if !found || strings.Contains(idx, "_") {
		return 0, false, false
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 {
		return 0, false, false
	}
	return uint64(i), stream == "", true
}

// resumeFrom checks that the history holds every event after id last, for
// a client resuming from it, and returns them; ok is false if it does not.
// Requires l.mu.
func (l *eventLog) resumeFrom(last uint64) (events [][]byte, ok bool) {
	if !l.on || last >= l.next || last+1 < l.first() {
		return nil, false
	}
	return l.events[len(l.events)-int(l.next-1-last):], true
}

// appendPriming appends the priming event of a stream opened when the next
// event is l.next: an id, and no data.
func (l *eventLog) appendPriming(b []byte) []byte {
	b = append(b, "id: _"...)
	b = strconv.AppendUint(b, l.next-1, 10)
	return append(b, "\ndata: \n\n"...)
}

// resumeError answers a Last-Event-ID the edge cannot replay from, as the
// SDK does.
func resumeError(w http.ResponseWriter, malformed bool, id string) {
	if malformed {
		http.Error(w, "malformed Last-Event-ID "+strconv.Quote(id), http.StatusBadRequest)
		return
	}
	http.Error(w, "failed to replay events", http.StatusBadRequest)
}
