package app

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// fileConfig is the YAML form of a [Config], for `toolwire serve --config`.
// Durations are Go duration strings ("30s", "10m").
type fileConfig struct {
	Addr           string   `yaml:"addr"`
	Backends       []string `yaml:"backends"`
	DefaultTimeout string   `yaml:"default_timeout"`
	MaxTimeout     string   `yaml:"max_timeout"`
	AllowedHosts   []string `yaml:"allowed_hosts"`
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// LoadConfig reads a YAML config file into cfg, leaving fields the file does
// not set as they are. Unknown keys and malformed values are errors that
// name the file, the line and the key.
func LoadConfig(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && err.Error() != "EOF" {
		return fmt.Errorf("%s: %w", path, err)
	}
	if fc.Addr != "" {
		cfg.Addr = fc.Addr
	}
	if fc.Backends != nil {
		cfg.Backends = fc.Backends
	}
	if fc.AllowedHosts != nil {
		cfg.AllowedHosts = fc.AllowedHosts
	}
	if fc.AllowedOrigins != nil {
		cfg.AllowedOrigins = fc.AllowedOrigins
	}
	for _, d := range []struct {
		key, val string
		dst      *time.Duration
	}{
		{"default_timeout", fc.DefaultTimeout, &cfg.DefaultTimeout},
		{"max_timeout", fc.MaxTimeout, &cfg.MaxTimeout},
	} {
		if d.val == "" {
			continue
		}
		v, err := time.ParseDuration(d.val)
		if err != nil || v <= 0 {
			return fmt.Errorf("%s: %s: want a positive duration such as \"30s\", got %q", path, d.key, d.val)
		}
		*d.dst = v
	}
	return nil
}
