package loadgen

import (
	"errors"
)

// The load generator reads tens of thousands of JSON-RPC messages a second
// on a machine it shares with the server, so it does not decode them with
// encoding/json: it walks the top level of each message and keeps the raw
// members it needs. It does not validate what it skips; a malformed message
// either fails here or in the encoding/json decode of the parts it checks.

var errBadJSON = errors.New("malformed JSON")

// members calls fn for each member of the JSON object data, with the raw
// key (quotes included) and raw value, until fn returns false.
func members(data []byte, fn func(key, value []byte) bool) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errBadJSON
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return errBadJSON
		}
		end, err := skipValue(data, i)
		if err != nil {
			return err
		}
		key := data[i:end]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return errBadJSON
		}
		i = skipSpace(data, i+1)
		end, err = skipValue(data, i)
		if err != nil {
			return err
		}
		if !fn(key, data[i:end]) {
			return nil
		}
		i = skipSpace(data, end)
		if i >= len(data) {
			return errBadJSON
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return nil
		default:
			return errBadJSON
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the index just past the JSON value starting at i.
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errBadJSON
	}
	switch data[i] {
	case '"':
		for j := i + 1; j < len(data); j++ {
			switch data[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return 0, errBadJSON
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, err := skipValue(data, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errBadJSON
	default:
		j := i
		for j < len(data) {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				if j == i {
					return 0, errBadJSON
				}
				return j, nil
			}
			j++
		}
		if j == i {
			return 0, errBadJSON
		}
		return j, nil
	}
}
