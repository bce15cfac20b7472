package bridge

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/toolwire/toolwire/edge/policy/authn"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// The multi-round-trip protocol (MRTR, 2026-07-28) has no server-to-client
// requests: a call that needs input ends with an input_required result
// that lists the questions (inputRequests) and carries an opaque
// requestState, and the client calls again with the same arguments, its
// answers (inputResponses) and that state.
//
// The edge keeps no state between those calls. Its requestState is the
// answers of every round so far, sealed: an HMAC-SHA256, under a key of the
// edge's, of the answers, an expiry, what was called (the tool, or the
// prompt) with which arguments, and by whom. On each call the edge opens
// the backend's stream afresh and replays: round k is answered from the
// state while it has one, the first round beyond it from the call's
// inputResponses, and the round after that ends the call with a new
// input_required. A backend must therefore ask the same questions for the
// same arguments and answers; it keeps nothing between calls either.

// DefaultStateTTL is how long a requestState stays valid when
// [Options.StateTTL] is zero.
const DefaultStateTTL = time.Hour

// errInvalidState is the answer to a requestState that fails verification:
// tampered with, expired, or sealed for another call.
var errInvalidState = &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid requestState"}

// InputRequiredError ends a 2026-07-28 call that needs input its client has
// not given yet. The call's answer is an input_required result with
// Requests and State; [Interact] returns it from the asker, and the
// backend's stream is cancelled.
type InputRequiredError struct {
	// Requests are the round's questions, keyed as the backend keyed them.
	Requests mcp.InputRequestMap
	// State is the sealed requestState the client must send back.
	State string
}

func (e *InputRequiredError) Error() string { return "input required" }

// Sealer seals and opens the requestState of 2026-07-28 calls, and builds
// their askers. Every edge replica that may receive a client's retry must
// share its key.
type Sealer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewSealer returns a sealer with key (nil: a random key, good for one
// process) and ttl (zero: [DefaultStateTTL]).
func NewSealer(key []byte, ttl time.Duration) *Sealer {
	if key == nil {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	if ttl <= 0 {
		ttl = DefaultStateTTL
	}
	return &Sealer{key: key, ttl: ttl, now: time.Now}
}

// stateVersion prefixes the MAC input, so that a later format never
// verifies as this one.
const stateVersion = "toolwire-mrtr-1\x00"

// binding is what a state is sealed to: the subject ("tools/call name"), the
// caller's principal, and the arguments, as a digest.
func binding(ctx context.Context, subject string, args []byte) []byte {
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	put([]byte(subject))
	if p, ok := authn.FromContext(ctx); ok && p != nil {
		put([]byte(string(p.Method) + ":" + p.Subject))
	} else {
		put(nil)
	}
	put(args)
	return h.Sum(nil)
}

// seal encodes rounds with an expiry and signs them with bind.
func (s *Sealer) seal(bind []byte, rounds []*mcpv1.InputResponses) (string, error) {
	var payload []byte
	payload = protowire.AppendTag(payload, 1, protowire.VarintType)
	payload = protowire.AppendVarint(payload, uint64(s.now().Add(s.ttl).Unix()))
	det := proto.MarshalOptions{Deterministic: true}
	for _, r := range rounds {
		b, err := det.Marshal(r)
		if err != nil {
			return "", err
		}
		payload = protowire.AppendTag(payload, 2, protowire.BytesType)
		payload = protowire.AppendBytes(payload, b)
	}
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.mac(bind, payload)), nil
}

func (s *Sealer) mac(bind, payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(stateVersion))
	m.Write(bind)
	m.Write(payload)
	return m.Sum(nil)
}

// open verifies state against bind and returns its rounds. The empty state
// has none.
func (s *Sealer) open(bind []byte, state string) ([]*mcpv1.InputResponses, error) {
	if state == "" {
		return nil, nil
	}
	p64, m64, ok := strings.Cut(state, ".")
	if !ok {
		return nil, errInvalidState
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	mac, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac(bind, payload)) {
		return nil, errInvalidState
	}
	var rounds []*mcpv1.InputResponses
	expiry := int64(-1)
	for b := payload; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errInvalidState
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, errInvalidState
			}
			expiry, b = int64(v), b[n:]
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, errInvalidState
			}
			r := &mcpv1.InputResponses{}
			if err := proto.Unmarshal(v, r); err != nil {
				return nil, errInvalidState
			}
			rounds, b = append(rounds, r), b[n:]
		default:
			return nil, errInvalidState
		}
	}
	if expiry < 0 || s.now().Unix() > expiry {
		return nil, errInvalidState
	}
	return rounds, nil
}

// Asker returns the [Asker] of one 2026-07-28 request that may need input:
// subject names what is called ("tools/call NAME", "prompts/get NAME"),
// args are its arguments in a canonical form (a deterministic protobuf
// encoding of the request), state and responses are the request's
// requestState and inputResponses, and caps its client's capabilities. ctx
// gives the principal the state is bound to.
//
// A state that fails verification (tampered with, expired, sealed for
// another subject, arguments or principal) is a JSON-RPC error -32602
// "invalid requestState", and no asker. The asker's Ask ends the call with
// an [*InputRequiredError] when the round needs answers the request does
// not carry. A request for a capability the client did not declare is
// never put to it: its answer is an InputError.
func (s *Sealer) Asker(ctx context.Context, subject string, args []byte, state string, responses mcp.InputResponseMap, caps Capabilities) (Asker, error) {
	bind := binding(ctx, subject, args)
	rounds, err := s.open(bind, state)
	if err != nil {
		return nil, err
	}
	return &roundTripAsker{s: s, bind: bind, rounds: rounds, responses: responses, caps: caps}, nil
}

// roundTripAsker answers the rounds of one 2026-07-28 request.
type roundTripAsker struct {
	s         *Sealer
	bind      []byte
	rounds    []*mcpv1.InputResponses
	responses mcp.InputResponseMap
	caps      Capabilities
	// used says the request's responses have answered a round.
	used bool
}

func (a *roundTripAsker) Ask(_ context.Context, round int, reqs *mcpv1.InputRequests) (*mcpv1.InputResponses, error) {
	if round < len(a.rounds) {
		return a.rounds[round], nil
	}
	if round != len(a.rounds) {
		return nil, errors.New("input rounds out of order")
	}
	resp, complete, took, err := a.answer(reqs, !a.used)
	if err != nil {
		return nil, err
	}
	if complete {
		a.used = a.used || took
		a.rounds = append(a.rounds, resp)
		return resp, nil
	}
	// The client must answer this round: ask it, with the rounds so far.
	ir := &InputRequiredError{Requests: make(mcp.InputRequestMap, len(reqs.GetRequests()))}
	for key, r := range reqs.GetRequests() {
		if c, _ := capabilityOf(r); a.caps&c == 0 {
			continue // answered by the edge
		}
		p, err := InputRequestOf(r)
		if err != nil {
			return nil, err
		}
		ir.Requests[key] = p
	}
	if ir.State, err = a.s.seal(a.bind, a.rounds); err != nil {
		return nil, err
	}
	return nil, ir
}

// answer answers reqs from what the edge knows (requests for capabilities
// the client did not declare) and, if fromRequest, from the request's
// inputResponses. It reports whether every request is answered, and
// whether any answer came from the request.
func (a *roundTripAsker) answer(reqs *mcpv1.InputRequests, fromRequest bool) (out *mcpv1.InputResponses, complete, took bool, err error) {
	out = &mcpv1.InputResponses{Responses: make(map[string]*mcpv1.InputResponse, len(reqs.GetRequests()))}
	complete = true
	for key, r := range reqs.GetRequests() {
		c, name := capabilityOf(r)
		if c == 0 {
			return nil, false, false, errors.New("input request with no kind set")
		}
		if a.caps&c == 0 {
			out.Responses[key] = notDeclared(name)
			continue
		}
		v, ok := a.responses[key]
		if !fromRequest || !ok || v == nil || !answers(r, v) {
			// Missing, or an answer of another kind: asked again.
			complete = false
			continue
		}
		resp, err := InputResponseOf(v)
		if err != nil {
			return nil, false, false, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "inputResponses[" + key + "]: " + err.Error()}
		}
		out.Responses[key] = resp
		took = true
	}
	return out, complete, took, nil
}
