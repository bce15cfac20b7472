// Package deps guards the layering of DESIGN.md: services/ and edge/ import
// gen/ and server/, never each other.
package deps

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/toolwire/toolwire/"

func TestLayering(t *testing.T) {
	rules := map[string][]string{
		"services/": {"edge/", "internal/app"},
		"edge/":     {"services/", "internal/app"},
		"server/":   {"edge/", "services/", "internal/app"},
		"gen/":      {"edge/", "services/", "server/", "internal/"},
	}
	out, err := exec.Command("go", "list", "-deps=false", "-json", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath                string
			Imports                   []string
			TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, module)
		for from, banned := range rules {
			if !strings.HasPrefix(rel, from) {
				continue
			}
			checked++
			for _, imp := range append(append(p.Imports, p.TestImports...), p.XTestImports...) {
				for _, b := range banned {
					if strings.HasPrefix(imp, module+b) {
						t.Errorf("%s imports %s", p.ImportPath, imp)
					}
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d packages: the listing is wrong", checked)
	}
}
