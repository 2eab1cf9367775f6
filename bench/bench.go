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

	"github.com/gosde/gosde/host"
)

// Figure is one reported number with the goal it is held to.
type Figure struct {
	Name string `json:"name"`
	// Value is nil (JSON null) when the figure could not be measured here, for
	// instance a GPU figure on a machine or in a build without the GPU engine; Note
	// then says why.
	Value *float64 `json:"value"`
	Unit  string   `json:"unit"`
	// Goal is a condition such as "<= 2" or "reported" (no goal).
	Goal string `json:"goal"`
	// Meets is nil when the goal is "reported" and the figure was measured, and false
	// whenever it was not measured.
	Meets *bool `json:"meets"`
	// Note qualifies the figure; for one not measured, it says why.
	Note string `json:"note,omitempty"`
}

// Measured reports whether the figure has a value.
func (f Figure) Measured() bool { return f.Value != nil }

// NewFigure makes a figure and checks it against goal ("<= x", ">= x" or "reported").
func NewFigure(name string, value float64, unit, goal string) Figure {
	f := Figure{Name: name, Value: &value, Unit: unit, Goal: goal}
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

// NotMeasured is a figure that this run could not measure, with the reason: its value
// is null, and it does not meet its goal, whatever the goal.
func NotMeasured(name, unit, goal, why string) Figure {
	meets := false
	return Figure{Name: name, Unit: unit, Goal: goal, Meets: &meets, Note: why}
}

// Machine names the computer a report was measured on.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Go         string `json:"go"`
	// GPU names the NVIDIA GPUs NVML finds ("none" without a driver or devices),
	// whether or not this binary has the GPU engine to use them.
	GPU string `json:"gpu"`
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
		GPU:        gpuModels(),
	}
}

// gpuModels names the GPUs host.Discover finds, identical boards counted ("2 × NVIDIA
// H200"), or "none".
func gpuModels() string {
	inv, err := host.Discover()
	if errors.Is(err, host.ErrNoDriver) {
		return "none"
	}
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	if len(inv.Devices) == 0 {
		return "none"
	}
	var names []string
	count := map[string]int{}
	for _, d := range inv.Devices {
		n := d.Name
		if n == "" {
			n = "NVIDIA GPU (name unknown)"
		}
		if count[n] == 0 {
			names = append(names, n)
		}
		count[n]++
	}
	for i, n := range names {
		if count[n] > 1 {
			names[i] = fmt.Sprintf("%d × %s", count[n], n)
		}
	}
	s := strings.Join(names, ", ")
	if inv.DriverVersion != "" {
		s += " (driver " + inv.DriverVersion + ")"
	}
	return s
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
	if len(r.Figures) == 0 {
		return
	}
	fmt.Fprintln(w, "\nfigures")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tvalue\tunit\tgoal\tmeets")
	var notes []string
	for _, f := range r.Figures {
		meets := "-"
		if f.Meets != nil {
			meets = "no"
			if *f.Meets {
				meets = "yes"
			}
		}
		value := "not measured"
		if f.Value != nil {
			value = FormatValue(*f.Value)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Name, value, f.Unit, f.Goal, meets)
		if f.Note != "" {
			notes = append(notes, fmt.Sprintf("  %s: %s", f.Name, f.Note))
		}
	}
	tw.Flush()
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nnotes")
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
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
	ds, err := Medians(repeats, f)
	if err != nil {
		return 0, err
	}
	return ds[0], nil
}

// Medians is Median for several measurements that are compared with one another: after
// one warm-up run of each, it runs them in turn, repeats rounds, and returns each one's
// median. Interleaving puts them under the same conditions, so that a burst of other
// work on a shared machine slows all of them, not the one that happened to be running,
// and their ratios survive it.
func Medians(repeats int, fs ...func() (time.Duration, error)) ([]time.Duration, error) {
	if repeats < 1 {
		return nil, errors.New("bench: repeats must be at least 1")
	}
	for _, f := range fs {
		if _, err := f(); err != nil {
			return nil, err
		}
	}
	ds := make([][]time.Duration, len(fs))
	for range repeats {
		for i, f := range fs {
			d, err := f()
			if err != nil {
				return nil, err
			}
			ds[i] = append(ds[i], d)
		}
	}
	meds := make([]time.Duration, len(fs))
	for i, d := range ds {
		slices.Sort(d)
		if repeats%2 == 1 {
			meds[i] = d[repeats/2]
		} else {
			meds[i] = (d[repeats/2-1] + d[repeats/2]) / 2
		}
	}
	return meds, nil
}

// Settings control how long experiments run.
type Settings struct {
	// Quick shrinks sizes and repeats so that every experiment together finishes in a
	// few minutes on 2 cores; ratios stay meaningful, absolute figures get noisier.
	Quick   bool
	Repeats int
	Seed    uint64
	// OpenGPU opens the engine the GPU figures are measured on; nil means
	// host.Open("gpu"), which fails in a binary built without -tags cuda. Tests put
	// another engine in its place to exercise the measured path.
	OpenGPU func() (host.Engine, error)
}

// openGPU opens the GPU engine, or returns nil and why the GPU figures cannot be
// measured, as their note.
func (s Settings) openGPU() (host.Engine, string) {
	open := s.OpenGPU
	if open == nil {
		if err := host.Check("gpu"); err != nil {
			return nil, "not measured: this gosde was built without GPU support " +
				"(build it with `make build-gpu`, i.e. go build -tags cuda, and run it on a machine with an NVIDIA GPU)"
		}
		open = func() (host.Engine, error) { return host.Open("gpu") }
	}
	eng, err := open()
	if err != nil {
		return nil, "not measured: " + err.Error()
	}
	if eng == nil {
		return nil, "not measured: the GPU engine's opener returned no engine"
	}
	return eng, ""
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
