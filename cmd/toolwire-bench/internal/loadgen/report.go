package loadgen

import (
	"bytes"
	"encoding/json"
)

// Report is one run's figures: a JSON object whose members keep the order
// they were set in, so that every line starts with server, mode, c, protocol
// and transport.
type Report struct {
	keys   []string
	values map[string]any
}

// Set sets key to v, keeping key's first position.
func (r *Report) Set(key string, v any) {
	if r.values == nil {
		r.values = map[string]any{}
	}
	if _, ok := r.values[key]; !ok {
		r.keys = append(r.keys, key)
	}
	r.values[key] = v
}

// Get returns key's value.
func (r *Report) Get(key string) (any, bool) {
	v, ok := r.values[key]
	return v, ok
}

// MarshalJSON writes the members in order.
func (r *Report) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range r.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(r.values[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
