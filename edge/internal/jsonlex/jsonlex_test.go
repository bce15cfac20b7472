package jsonlex

import "testing"

func TestSkipWS(t *testing.T) {
	for _, tc := range []struct {
		in   string
		i    int
		want int
	}{
		{"", 0, 0},
		{"  \t\n\rx", 0, 5},
		{"x  ", 0, 0},
		{"a  ", 1, 3},
	} {
		if got := SkipWS([]byte(tc.in), tc.i); got != tc.want {
			t.Errorf("SkipWS(%q, %d) = %d, want %d", tc.in, tc.i, got, tc.want)
		}
	}
}

func TestHasLiteral(t *testing.T) {
	b := []byte(`[true,nul`)
	if !HasLiteral(b, 1, "true") || HasLiteral(b, 6, "null") || HasLiteral(b, 0, "true") {
		t.Error("HasLiteral is wrong")
	}
}

func TestHex4(t *testing.T) {
	for _, tc := range []struct {
		in string
		r  rune
		ok bool
	}{
		{"00e9", 'é', true},
		{"D83D", 0xD83D, true},
		{"aBcD", 0xABCD, true},
		{"12g4", 0, false},
		{"123", 0, false},
	} {
		r, ok := Hex4([]byte(tc.in), 0)
		if r != tc.r || ok != tc.ok {
			t.Errorf("Hex4(%q) = %U %v, want %U %v", tc.in, r, ok, tc.r, tc.ok)
		}
	}
}
