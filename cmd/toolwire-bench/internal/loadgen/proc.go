package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's utime and
// stime: `getconf CLK_TCK`, or 100 (every Linux architecture Go runs on)
// when getconf is missing.
var clockTicks = sync.OnceValue(func() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 100
})

// parseStatCPU returns utime+stime, in clock ticks, from the content of a
// /proc/PID/stat file. The command name (field 2) is in parentheses and may
// hold spaces and parentheses itself, so fields are counted from the last ')'.
func parseStatCPU(stat []byte) (int64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in %q", stat)
	}
	// After ')': field 3 (state) onwards; utime and stime are fields 14 and 15.
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat line %q", stat)
	}
	utime, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime: %w", err)
	}
	stime, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime: %w", err)
	}
	return utime + stime, nil
}

// processCPU returns the CPU time process pid has used, user and system.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	ticks, err := parseStatCPU(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(ticks) * time.Second / time.Duration(clockTicks()), nil
}

// parseVmRSS returns VmRSS, in KiB, from the content of a /proc/PID/status
// file.
func parseVmRSS(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", line)
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("no VmRSS line")
}

// processRSS returns process pid's resident set size in KiB.
func processRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	kib, err := parseVmRSS(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return kib, nil
}

// selfCPU returns the CPU time this process has used, user and system.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Proc names a server process to watch: its CPU for cpu_us_per_call, its
// RSS in idle mode.
type Proc struct {
	Name string // a label, e.g. "edge" or "backend"; defaults to the pid
	PID  int
}

// ParseProcs parses a --pid value: comma-separated PID or NAME=PID items.
func ParseProcs(s string) ([]Proc, error) {
	var procs []Proc
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, num, found := strings.Cut(item, "=")
		if !found {
			name, num = "", item
		}
		pid, err := strconv.Atoi(num)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("bad pid %q in %q", num, s)
		}
		if name == "" {
			name = strconv.Itoa(pid)
		}
		procs = append(procs, Proc{Name: name, PID: pid})
	}
	return procs, nil
}

// cpuSnapshot holds each proc's CPU time at one instant.
func cpuSnapshot(procs []Proc) ([]time.Duration, error) {
	out := make([]time.Duration, len(procs))
	for i, p := range procs {
		d, err := processCPU(p.PID)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// parseProcStatBusy returns the busy time of all CPUs together, in clock
// ticks, from the content of /proc/stat: user, nice, system, irq, softirq
// and steal (guest time is already in user).
func parseProcStatBusy(stat []byte) (int64, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system (idle iowait) irq softirq steal
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		busy += n
	}
	return busy, nil
}

// machineBusy returns the CPU time all processes of the machine have used.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	ticks, err := parseProcStatBusy(b)
	if err != nil {
		return 0, err
	}
	return time.Duration(ticks) * time.Second / time.Duration(clockTicks()), nil
}
