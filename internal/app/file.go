package app

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ApplyConfigFile sets fs's flags from the YAML file at path, for
// `toolwire serve --config`. Every flag of the command is a key: its name
// with '_' for '-' (max_timeout for --max-timeout), and a repeatable flag
// may be spelled in the plural with a list (backends: [a:1, b:2] for
// --backend). Flags given on the command line win over the file, so call
// it after fs.Parse. Values are parsed by the flags themselves, so a file
// and a command line accept exactly the same things. Unknown keys, nested
// maps and malformed values are errors that name the file, line and key.
func ApplyConfigFile(fs *flag.FlagSet, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a map of settings at the top", path, root.Line)
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		name := flagName(fs, k.Value)
		if name == "" || name == "config" {
			return fmt.Errorf("%s:%d: unknown key %q; the keys are: %s", path, k.Line, k.Value, strings.Join(configKeys(fs), ", "))
		}
		if seen[name] {
			return fmt.Errorf("%s:%d: key %q given twice", path, k.Line, k.Value)
		}
		seen[name] = true
		if explicit[name] {
			continue
		}
		var vals []*yaml.Node
		switch v.Kind {
		case yaml.ScalarNode:
			vals = []*yaml.Node{v}
		case yaml.SequenceNode:
			vals = v.Content
		default:
			return fmt.Errorf("%s:%d: %s: want a value or a list of values", path, v.Line, k.Value)
		}
		for _, s := range vals {
			if s.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s:%d: %s: want a value, not a nested structure", path, s.Line, k.Value)
			}
			if err := fs.Set(name, s.Value); err != nil {
				return fmt.Errorf("%s:%d: %s: %w", path, s.Line, k.Value, err)
			}
		}
	}
	return nil
}

// flagName is the flag a config key sets, or "" if none.
func flagName(fs *flag.FlagSet, key string) string {
	name := strings.ReplaceAll(key, "_", "-")
	if fs.Lookup(name) != nil {
		return name
	}
	if s, ok := strings.CutSuffix(name, "s"); ok && fs.Lookup(s) != nil {
		return s
	}
	return ""
}

func configKeys(fs *flag.FlagSet) []string {
	var keys []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "config" {
			keys = append(keys, strings.ReplaceAll(f.Name, "-", "_"))
		}
	})
	sort.Strings(keys)
	return keys
}
