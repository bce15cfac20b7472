package catalog

import "encoding/json"

// FastAccepts reports whether the fast path of ValidateArgs accepts raw on
// its own, without the schema validator.
func FastAccepts(t *Tool, raw json.RawMessage) bool { return t.fast != nil && t.fast.accepts(raw) }
