package bridge

import (
	"encoding/json"
	"errors"
	"maps"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ResultExtras are what a transport adds to every result it sends.
type ResultExtras struct {
	// MetaKey and MetaValue, when MetaKey is set, are one more _meta member
	// (such as 2026-07-28's server info); MetaValue is JSON.
	MetaKey   string
	MetaValue json.RawMessage
	// Complete adds "resultType":"complete" (2026-07-28).
	Complete bool
}

// AppendJSONRPC appends the JSON-RPC response to request id (raw JSON) that
// carries a: its result, or its error. It encodes what the SDK encodes for
// the same answer (the tests compare the two), without the SDK's reflection:
// a successful call, the hot case, takes no allocation here.
//
// It must not be called for a dropped answer: nothing may be sent then.
func (a *Answer) AppendJSONRPC(dst []byte, id []byte, x ResultExtras) ([]byte, error) {
	if a.Dropped {
		return dst, errors.New("bridge: a dropped answer has no response")
	}
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = append(dst, id...)
	if a.Err != nil {
		var werr *jsonrpc.Error
		if !errors.As(a.Err, &werr) {
			werr = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: a.Err.Error()}
		}
		e, err := json.Marshal(werr)
		if err != nil {
			return dst, err
		}
		dst = append(dst, `,"error":`...)
		dst = append(dst, e...)
		return append(dst, '}'), nil
	}
	dst = append(dst, `,"result":`...)
	if a.Result != nil {
		r := *a.Result
		if x.MetaKey != "" {
			r.Meta = maps.Clone(r.Meta)
			if r.Meta == nil {
				r.Meta = mcp.Meta{}
			}
			r.Meta[x.MetaKey] = x.MetaValue
		}
		body, err := json.Marshal(&r)
		if err != nil {
			return dst, err
		}
		if x.Complete {
			// body is an object with at least "content": splice the member in.
			if r.InputRequests != nil || r.RequestState != "" {
				dst = append(dst, `{"resultType":"input_required",`...)
			} else {
				dst = append(dst, `{"resultType":"complete",`...)
			}
			dst = append(dst, body[1:]...)
		} else {
			dst = append(dst, body...)
		}
		return append(dst, '}'), nil
	}
	// The shape of okResult.
	dst = append(dst, `{"_meta":{"`...)
	dst = append(dst, MetaRequestID...)
	dst = append(dst, `":"`...)
	dst = append(dst, a.RequestID...) // request ids are plain ASCII (observe.RequestID)
	dst = append(dst, '"')
	if x.MetaKey != "" {
		dst = append(dst, `,"`...)
		dst = append(dst, x.MetaKey...)
		dst = append(dst, `":`...)
		dst = append(dst, x.MetaValue...)
	}
	dst = append(dst, `},"content":[{"type":"text","text":`...)
	var ok bool
	if dst, ok = appendJSONString(dst, a.Payload); !ok {
		return dst, errors.New("bridge: the result payload is not UTF-8")
	}
	dst = append(dst, `}],"structuredContent":`...)
	dst = append(dst, a.Payload...)
	if x.Complete {
		dst = append(dst, `,"resultType":"complete"`...)
	}
	return append(dst, "}}"...), nil
}

// AppendJSONString appends s quoted as a JSON string, as protojson quotes
// strings; it reports false if s is not UTF-8.
func AppendJSONString(dst, s []byte) ([]byte, bool) { return appendJSONString(dst, s) }
