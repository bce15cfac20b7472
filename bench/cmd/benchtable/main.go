// Command benchtable reads toolwire-bench's JSON lines (one per run; the
// runs of one comparison tagged repeat=1..N) and writes a Markdown table:
// for each figure and server, the median of the repeats and their spread
// (min–max), and the ratio of the subject's calls/s to the baseline's,
// repeat by repeat.
//
//	benchtable [--subject toolwire] [--baseline ref-gosdk] [--servers a,b,c] results.jsonl ...
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// run is one JSON line.
type run map[string]any

func (r run) str(k string) string {
	switch v := r[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func (r run) num(k string) (float64, bool) {
	v, ok := r[k].(float64)
	return v, ok
}

// figure is one row of the table.
type figure struct {
	label  string
	mode   string // call, stream, idle, cancel
	how    string // cancel: notify or close
	get    func(run) (float64, bool)
	format func(float64) string
	target string // the target for the subject, if any
	sum    bool   // a count that must be 0: show the total over the repeats, not the median
}

func field(k string) func(run) (float64, bool) {
	return func(r run) (float64, bool) { return r.num(k) }
}

func by(part string) func(run) (float64, bool) {
	return func(r run) (float64, bool) {
		m, ok := r["cpu_us_per_call_by"].(map[string]any)
		if !ok {
			return 0, false
		}
		v, ok := m[part].(float64)
		return v, ok
	}
}

func fixed(digits int) func(float64) string {
	return func(v float64) string { return group(strconv.FormatFloat(v, 'f', digits, 64)) }
}

// group puts thousands separators into a formatted number.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if hasFrac {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

var figures = []figure{
	{label: "echo calls/s (c=16)", mode: "call", get: field("calls_per_s"), format: fixed(0), target: "≥ 2× ref-gosdk (tier 2: ≥ ~23k)"},
	{label: "server CPU µs/call", mode: "call", get: field("cpu_us_per_call"), format: fixed(1)},
	{label: "… of which edge", mode: "call", get: by("edge"), format: fixed(1)},
	{label: "… of which backend", mode: "call", get: by("backend"), format: fixed(1)},
	{label: "p50 latency ms", mode: "call", get: field("p50_ms"), format: fixed(2)},
	{label: "p99 latency ms", mode: "call", get: field("p99_ms"), format: fixed(2), target: "≤ 5 ms"},
	{label: "call errors (total)", mode: "call", get: field("errors"), format: fixed(0), sum: true, target: "0"},
	{label: "load generator CPU µs/call", mode: "call", get: field("client_cpu_us_per_call"), format: fixed(1)},
	{label: "other processes' CPU during the call runs, cores", mode: "call", get: field("other_cpu_cores"), format: fixed(2)},
	{label: "progress notifications/s (n=100, c=16)", mode: "stream", get: field("progress_per_s"), format: fixed(0), target: "≥ 150k"},
	{label: "progress lost (total)", mode: "stream", get: field("lost"), format: fixed(0), sum: true, target: "0"},
	{label: "progress on another call's stream (total)", mode: "stream", get: field("misrouted"), format: fixed(0), sum: true},
	{label: "stream errors (total)", mode: "stream", get: field("errors"), format: fixed(0), sum: true, target: "0"},
	{label: "RSS KiB per idle session (GET stream held)", mode: "idle", get: field("rss_per_session_kib"), format: fixed(1), target: "≤ 24 KiB"},
	{label: "cancel by notifications/cancelled: p50 ms", mode: "cancel", how: "notify", get: field("p50_ms"), format: fixed(2), target: "≤ 1 ms"},
	{label: "… p99 ms", mode: "cancel", how: "notify", get: field("p99_ms"), format: fixed(2)},
	{label: "… trials reaching the handler %", mode: "cancel", how: "notify", get: field("success_pct"), format: fixed(0), target: "100%"},
	{label: "… responses sent for the cancelled id (total)", mode: "cancel", how: "notify", get: field("responses_after_cancel"), format: fixed(0), sum: true, target: "0"},
	{label: "cancel by TCP close: p50 ms", mode: "cancel", how: "close", get: field("p50_ms"), format: fixed(2), target: "≤ 1 ms"},
	{label: "… p99 ms", mode: "cancel", how: "close", get: field("p99_ms"), format: fixed(2)},
	{label: "… trials reaching the handler %", mode: "cancel", how: "close", get: field("success_pct"), format: fixed(0), target: "100%"},
}

func main() {
	subject := flag.String("subject", "toolwire", "the server the targets are for")
	baseline := flag.String("baseline", "ref-gosdk", "the server the subject's calls/s is compared with")
	servers := flag.String("servers", "", "column order, comma-separated (default: the subject, then in order of appearance)")
	flag.Parse()
	var runs []run
	for _, path := range flag.Args() {
		rs, err := readRuns(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		runs = append(runs, rs...)
	}
	if len(runs) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no runs (give the JSON-lines files as arguments)")
		os.Exit(2)
	}
	var order []string
	if *servers != "" {
		order = strings.Split(*servers, ",")
	}
	write(os.Stdout, runs, *subject, *baseline, order)
}

func readRuns(path string) ([]run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var runs []run
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || !strings.HasPrefix(line, "{") {
			continue
		}
		var r run
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		runs = append(runs, r)
	}
	return runs, sc.Err()
}

// median returns the median of vs.
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// cell renders values as "median (min–max)", or the total for a sum.
func cell(f figure, vs []float64) string {
	if len(vs) == 0 {
		return "—"
	}
	if f.sum {
		var t float64
		for _, v := range vs {
			t += v
		}
		return f.format(t)
	}
	m := f.format(median(vs))
	if len(vs) == 1 {
		return m
	}
	lo, hi := f.format(slices.Min(vs)), f.format(slices.Max(vs))
	if lo == hi {
		return m
	}
	return fmt.Sprintf("%s (%s–%s)", m, lo, hi)
}

func write(w io.Writer, runs []run, subject, baseline string, order []string) {
	if len(order) == 0 {
		seen := map[string]bool{subject: true}
		order = []string{subject}
		for _, r := range runs {
			if s := r.str("server"); !seen[s] {
				seen[s] = true
				order = append(order, s)
			}
		}
	}
	repeats := map[string]bool{}
	for _, r := range runs {
		repeats[r.str("repeat")] = true
	}

	fmt.Fprintf(w, "| figure | %s | target (%s) |\n", strings.Join(order, " | "), subject)
	fmt.Fprintf(w, "|---|%s---|\n", strings.Repeat("---:|", len(order)))
	ratios := ratio(runs, subject, baseline)
	if len(ratios) > 0 {
		f := figure{format: func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "×" }}
		cells := make([]string, len(order))
		for i, s := range order {
			cells[i] = "—"
			if s == subject {
				cells[i] = cell(f, ratios)
			}
		}
		fmt.Fprintf(w, "| calls/s ÷ %s's, same repeat | %s | ≥ 2.00× |\n", baseline, strings.Join(cells, " | "))
	}
	for _, f := range figures {
		cells := make([]string, len(order))
		found := false
		for i, s := range order {
			var vs []float64
			for _, r := range runs {
				if r.str("server") != s || r.str("mode") != f.mode || (f.how != "" && r.str("how") != f.how) {
					continue
				}
				if v, ok := f.get(r); ok {
					vs = append(vs, v)
				}
			}
			cells[i] = cell(f, vs)
			found = found || len(vs) > 0
		}
		if !found {
			continue
		}
		target := f.target
		if target == "" {
			target = " "
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", f.label, strings.Join(cells, " | "), target)
	}
	fmt.Fprintf(w, "\nEach cell: the median of %d repeats, and their spread (min–max) where they differ; counts marked total are summed over the repeats. — means not measured.\n", len(repeats))
}

// ratio returns, for each repeat with call runs of both, the subject's
// calls/s over the baseline's.
func ratio(runs []run, subject, baseline string) []float64 {
	cps := map[string]map[string]float64{} // repeat → server → calls/s
	for _, r := range runs {
		if r.str("mode") != "call" {
			continue
		}
		v, ok := r.num("calls_per_s")
		if !ok {
			continue
		}
		rep := r.str("repeat")
		if cps[rep] == nil {
			cps[rep] = map[string]float64{}
		}
		cps[rep][r.str("server")] = v
	}
	var out []float64
	keys := make([]string, 0, len(cps))
	for k := range cps {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s, ok1 := cps[k][subject]
		b, ok2 := cps[k][baseline]
		if ok1 && ok2 && b > 0 {
			out = append(out, s/b)
		}
	}
	return out
}
