// Package jsonlex holds the lexical primitives shared by the edge's two
// allocation-free JSON readers: the argument validator's fast path
// (edge/catalog) and the flat-message transcoder (edge/bridge). Their string
// scanners stay apart on purpose: one counts runes as encoding/json does,
// the other decodes bytes as protojson does.
package jsonlex

// SkipWS returns the index of the first byte at or after i that is not JSON
// whitespace.
func SkipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// HasLiteral reports whether b holds lit at i.
func HasLiteral(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// Hex4 decodes the four hex digits of a \uXXXX escape starting at b[i].
func Hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
