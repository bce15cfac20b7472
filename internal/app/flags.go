package app

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RegisterFlags registers on fs the flags of command cmd (demo, serve,
// stdio, health) that fill cfg. Each concern registers its own in its file
// (flags_security.go, flags_limits.go), so a new setting is one line there,
// and it is a config-file key too (see [ApplyConfigFile]).
func RegisterFlags(cmd string, fs *flag.FlagSet, cfg *Config) {
	switch cmd {
	case "demo", "serve", "stdio":
		fs.Var(duration{p: &cfg.DefaultTimeout}, "default-timeout", "deadline of a tool call when neither tool nor client sets one (default 60s)")
		fs.Var(duration{p: &cfg.MaxTimeout}, "max-timeout", "cap on every tool call's deadline (default 10m)")
		fs.Var(count[int]{p: &cfg.PageSize}, "page-size", "most items one tools/list, prompts/list or resources/list page holds; clients follow nextCursor (0: 1000)")
	}
	switch cmd {
	case "demo", "serve":
		if cfg.Addr == "" {
			cfg.Addr = "127.0.0.1:7070"
		}
		fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "HTTP listen address, HOST:PORT (port 0 picks a free port)")
		fs.Var(stringList{&cfg.AllowedHosts}, "allowed-host", "Host header value to accept besides loopback names (repeatable)")
		fs.Var(stringList{&cfg.AllowedOrigins}, "allowed-origin", "browser Origin to accept besides loopback ones (repeatable)")
	}
	switch cmd {
	case "serve", "stdio":
		fs.Var(stringList{&cfg.Backends}, "backend", "gRPC backend address HOST:PORT (repeatable)")
		fs.Var(refreshFlag{&cfg.CatalogRefresh}, "catalog-refresh", "how often to read the backends' services again by gRPC reflection, and on each reconnect, to follow contracts that change (default 30s; 0 turns it off)")
	case "demo":
		fs.StringVar(&cfg.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL for the search backend (default: embedded corpus)")
	}
	switch cmd {
	case "demo", "stdio", "tools":
		fs.Var(demoServiceFlag{&cfg.Services}, "services",
			"example backends to run, comma-separated (repeatable): "+strings.Join(demoServiceNames(), ", ")+
				" (default "+strings.Join(DefaultDemoServices, ",")+"; for stdio, with --demo)")
	}
	registerSecurityFlags(cmd, fs, cfg)
	registerLimitFlags(cmd, fs, cfg)
}

// stringList is a repeatable string flag appending to *p.
type stringList struct{ p *[]string }

func (l stringList) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l stringList) Set(v string) error { *l.p = append(*l.p, v); return nil }

// demoServiceFlag is a repeatable flag of comma-separated demo service names,
// appended to *p; it refuses a name the demo does not know.
type demoServiceFlag struct{ p *[]string }

func (l demoServiceFlag) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l demoServiceFlag) Set(v string) error {
	for name := range strings.SplitSeq(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, ok := demoServiceByName(name); !ok {
			return unknownService(name)
		}
		if !slices.Contains(*l.p, name) {
			*l.p = append(*l.p, name)
		}
	}
	if len(*l.p) == 0 {
		return fmt.Errorf("want one or more of %s, got %q", strings.Join(demoServiceNames(), ", "), v)
	}
	return nil
}

// duration is a duration flag that refuses negative values, and zero
// unless zeroOK (zero then turns a feature off).
type duration struct {
	p      *time.Duration
	zeroOK bool
}

func (d duration) String() string {
	if d.p == nil || (*d.p == 0 && !d.zeroOK) {
		return ""
	}
	return d.p.String()
}

func (d duration) Set(v string) error {
	x, err := time.ParseDuration(v)
	switch {
	case err != nil || x < 0 || (x == 0 && !d.zeroOK):
		if d.zeroOK {
			return fmt.Errorf("want a duration such as \"30s\", or 0 for none, got %q", v)
		}
		return fmt.Errorf("want a positive duration such as \"30s\", got %q", v)
	}
	*d.p = x
	return nil
}

// refreshFlag is --catalog-refresh: a duration, 0 for never (negative in
// Config, where zero is the default).
type refreshFlag struct{ p *time.Duration }

func (f refreshFlag) String() string {
	switch {
	case f.p == nil || *f.p == 0:
		return ""
	case *f.p < 0:
		return "0s"
	}
	return f.p.String()
}

func (f refreshFlag) Set(v string) error {
	x, err := time.ParseDuration(v)
	if err != nil || x < 0 {
		return fmt.Errorf("want a duration such as \"30s\", or 0 for never, got %q", v)
	}
	if x == 0 {
		x = -1
	}
	*f.p = x
	return nil
}

// count is a whole-number flag with a least value.
type count[T int | int64] struct {
	p   *T
	min T
}

func (c count[T]) String() string {
	if c.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*c.p), 10)
}

func (c count[T]) Set(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || T(n) < c.min || int64(T(n)) != n {
		return fmt.Errorf("want a whole number of at least %d, got %q", c.min, v)
	}
	*c.p = T(n)
	return nil
}
