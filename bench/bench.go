// Package bench runs gosde's performance and accuracy experiments and reports them as
// named figures: each experiment is repeated, the median kept, and every comparison is
// a ratio of two quantities measured in the same run, because absolute times on shared
// machines move by tens of percent from one minute to the next.
package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Figure is one reported number with the goal it is held to.
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Goal is a condition such as "<= 2" or "reported" (no goal).
	Goal string `json:"goal"`
	// Meets is nil when the goal is "reported".
	Meets *bool `json:"meets"`
}

// NewFigure makes a figure and checks it against goal ("<= x", ">= x" or "reported").
func NewFigure(name string, value float64, unit, goal string) Figure {
	f := Figure{Name: name, Value: value, Unit: unit, Goal: goal}
	var op string
	var bound float64
	if _, err := fmt.Sscanf(goal, "%s %g", &op, &bound); err == nil {
		var ok bool
		switch op {
		case "<=":
			ok = value <= bound
		case ">=":
			ok = value >= bound
		default:
			return f
		}
		f.Meets = &ok
	}
	return f
}

// Machine names the computer a report was measured on.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Go         string `json:"go"`
	GPU        string `json:"gpu"`
}

// ThisMachine describes the machine the process runs on.
func ThisMachine() Machine {
	return Machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		Go:         runtime.Version(),
		GPU:        "none used (CPU engine)",
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// Report is what `gosde bench --json` prints.
type Report struct {
	Machine Machine  `json:"machine"`
	Figures []Figure `json:"figures"`
	// Tables are the detailed measurements behind the figures, for people.
	Tables []Table `json:"tables,omitempty"`
}

// Table is a titled grid of measurements.
type Table struct {
	Title   string     `json:"title"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// Write prints the table aligned, for a terminal or a README.
func (t Table) Write(w io.Writer) {
	fmt.Fprintf(w, "\n%s\n", t.Title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(t.Columns, "\t")+"\t")
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	tw.Flush()
}

// WriteText prints the machine, the tables and the figures for a person.
func (r Report) WriteText(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "machine: %s, %d cores (GOMAXPROCS %d), %s/%s, %s, GPU: %s\n",
		m.CPU, m.Cores, m.GOMAXPROCS, m.OS, m.Arch, m.Go, m.GPU)
	for _, t := range r.Tables {
		t.Write(w)
	}
	fmt.Fprintln(w, "\nfigures")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tvalue\tunit\tgoal\tmeets")
	for _, f := range r.Figures {
		meets := "-"
		if f.Meets != nil {
			meets = "no"
			if *f.Meets {
				meets = "yes"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Name, FormatValue(f.Value), f.Unit, f.Goal, meets)
	}
	tw.Flush()
}

// FormatValue prints a figure with three significant digits.
func FormatValue(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%.3g", v)
}

// Median runs f repeats times (after one untimed warm-up run) and returns the median
// duration. f returns the duration it measured, so set-up can stay outside the timing.
func Median(repeats int, f func() (time.Duration, error)) (time.Duration, error) {
	if repeats < 1 {
		return 0, errors.New("bench: repeats must be at least 1")
	}
	if _, err := f(); err != nil {
		return 0, err
	}
	ds := make([]time.Duration, repeats)
	for i := range ds {
		d, err := f()
		if err != nil {
			return 0, err
		}
		ds[i] = d
	}
	slices.Sort(ds)
	if repeats%2 == 1 {
		return ds[repeats/2], nil
	}
	return (ds[repeats/2-1] + ds[repeats/2]) / 2, nil
}

// Settings control how long experiments run.
type Settings struct {
	// Quick shrinks sizes and repeats so that every experiment together finishes in a
	// few minutes on 2 cores; ratios stay meaningful, absolute figures get noisier.
	Quick   bool
	Repeats int
	Seed    uint64
}

func (s Settings) repeats(full int) int {
	if s.Repeats > 0 {
		return s.Repeats
	}
	if s.Quick {
		// Three timed runs even in quick mode: a median of one is any single hiccup.
		return max(3, full/3)
	}
	return full
}
