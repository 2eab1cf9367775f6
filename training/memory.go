package training

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gosde/gosde/gan"
	"github.com/gosde/gosde/latent"
)

// MemoryEstimate is the memory a run needs, in bytes, by its dominant terms.
type MemoryEstimate struct {
	// Data is the data set: N·T·C float64 of the training and the test paths.
	Data float64
	// Buffers are the per-step solver buffers and generated paths of a training step
	// and of the evaluation.
	Buffers float64
	// Records are the stored steps of the latent SDE's --adjoint backprop: steps per
	// solve × batch × state.
	Records float64
	// Samples are the generated paths that sample and eval hold at once (float64), and
	// the CSV text that sample writes of them.
	Samples float64
}

// Total is the sum of the terms.
func (e MemoryEstimate) Total() float64 { return e.Data + e.Buffers + e.Records + e.Samples }

// EstimateMemory estimates the memory that training cfg on data needs. It is a lower
// bound on the dominant terms, not an exact figure: it exists to refuse sizes that
// cannot fit before anything is allocated. Arithmetic is in float64, so that absurd
// sizes do not overflow.
func EstimateMemory(cfg Config, data *Data) MemoryEstimate {
	const f64 = 8.0
	var e MemoryEstimate
	t, c := float64(data.Train.T()), float64(data.Train.C())
	e.Data = float64(data.Train.N+data.Test.N) * t * c * f64
	e.Buffers = modelBuffers(cfg, t, c, float64(max(cfg.EvalPaths, 100)))
	if cfg.Model == "latent-sde" {
		l := cfg.Latent
		b, d := float64(l.Batch), float64(l.LatentSize)
		if cfg.Adjoint == "backprop" {
			dt := l.Dt
			if dt <= 0 {
				dt = stepFor(data.Train.Times)
			}
			times := data.Train.Times
			steps := (times[len(times)-1] - times[0]) / dt
			// Each step keeps the state and the vector fields' values (about four
			// state-sized records, with the KL term as one more channel).
			e.Records = steps * b * 4 * (d + 1) * f64
		}
	}
	return e
}

// modelBuffers is the memory of cfg's model over t times and c channels: its training
// step's buffers at its batch size, and those of eval paths sampled at once.
func modelBuffers(cfg Config, t, c, eval float64) float64 {
	const f64 = 8.0
	if cfg.Model == "latent-sde" {
		l := cfg.Latent
		b, d, k, w := float64(l.Batch), float64(l.LatentSize), float64(l.ContextSize), float64(l.Width)
		depth := float64(max(l.Depth, 1))
		// Encoded context and decoded paths of the batch, plus the solver's state,
		// drift, diffusion and adjoint buffers and the MLPs' activations per step.
		return b*t*(c+k+d)*f64 + 8*b*(d+1)*f64 + 4*b*w*depth*f64 + eval*t*(c+d)*f64 +
			weights(w, depth, d+k+c+1, max(d, c))
	}
	g := cfg.GAN
	b, h, m, w := float64(g.Batch), float64(g.Hidden), float64(g.NoiseDim), float64(g.Width)
	depth := float64(max(g.Depth, 1))
	// Generated paths and the discriminator's hidden states over the times, real and
	// fake, plus per-step solver buffers: the diffusion matrix (hidden × noise), the
	// reversible Heun states and adjoints, and the MLPs' activations.
	return 2*b*t*(c+h)*f64 + 8*b*(h*m+2*h)*f64 + 4*b*w*depth*f64 + eval*t*(c+h)*f64 +
		weights(w, depth, h+c+1, h*max(m, c+1))
}

// weights is the memory of a model's six or so MLPs of width w and depth hidden layers,
// in ≤ in inputs and ≤ out outputs each, as float32 parameters with their gradient,
// weight average and two optimiser states: what a model allocates before a checkpoint's
// tensors are checked against it, so that a configuration of absurd widths is refused
// rather than allocated.
func weights(w, depth, in, out float64) float64 {
	const nets, copies, f32 = 6.0, 5.0, 4.0
	return nets * (w*w*(depth-1) + w*(in+out+depth)) * copies * f32
}

// sampleChunk is the most paths the models sample at once (their buffers are sized
// for it, not for n).
const sampleChunk = max(gan.SampleChunk, latent.SampleChunk)

// csvBytesPerValue is about what a value takes as CSV text: up to 17 significant digits,
// a point, an exponent and a separator (WriteCSV writes the shortest exact form).
const csvBytesPerValue = 20

// EstimateSampleMemory estimates the memory that generating n paths of t times and c
// channels from a model of cfg takes, draws sets of them held at once (eval holds
// EvalDraws), and written out as CSV text when csv (gosde sample): the model's buffers
// at its training batch and a sampling chunk, the paths as float64, the text.
func EstimateSampleMemory(cfg Config, t, c, n, draws int, csv bool) MemoryEstimate {
	const f64 = 8.0
	ft, fc, fn := float64(t), float64(c), float64(n)
	e := MemoryEstimate{Buffers: modelBuffers(cfg, ft, fc, float64(min(n, sampleChunk)))}
	e.Samples = float64(draws) * fn * ft * fc * f64
	if csv {
		// A bytes.Buffer grows by doubling: up to twice the text at once.
		e.Samples += 2 * fn * ft * (fc + 2) * csvBytesPerValue
	}
	return e
}

// checkSampleMemory refuses to generate paths whose estimated memory e exceeds the
// machine's available memory, before anything is allocated; it checks nothing where the
// available memory cannot be read.
func checkSampleMemory(e MemoryEstimate, n int) error {
	avail, ok := memAvailable()
	if !ok || e.Total() <= avail {
		return nil
	}
	hint := "give a smaller --n"
	if e.Buffers > avail {
		hint = "the checkpoint's model is too large for this machine"
	}
	return fmt.Errorf("%d paths would need about %s of memory (generated paths %s, data %s, model buffers %s) "+
		"but only %s is available (MemAvailable in /proc/meminfo): %s",
		n, gib(e.Total()), gib(e.Samples), gib(e.Data), gib(e.Buffers), gib(avail), hint)
}

// memAvailable reads MemAvailable from /proc/meminfo in bytes; ok is false where it
// cannot be read (not Linux, or a kernel without the field).
var memAvailable = func() (bytes float64, ok bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseFloat(fields[1], 64)
			if err != nil {
				return 0, false
			}
			return kb * 1024, true
		}
	}
	return 0, false
}

// checkMemory refuses a run whose estimated memory exceeds the machine's available
// memory; it checks nothing where the available memory cannot be read.
func checkMemory(cfg Config, data *Data) error {
	avail, ok := memAvailable()
	if !ok {
		return nil
	}
	e := EstimateMemory(cfg, data)
	if e.Total() <= avail {
		return nil
	}
	return fmt.Errorf("this run would need about %s of memory (data %s, training buffers %s, backprop records %s) "+
		"but only %s is available (MemAvailable in /proc/meminfo): reduce --batch, --eval-paths or the model sizes"+
		"%s", gib(e.Total()), gib(e.Data), gib(e.Buffers), gib(e.Records), gib(avail), backpropHint(e))
}

func backpropHint(e MemoryEstimate) string {
	if e.Records > e.Buffers {
		return ", or use --adjoint reversible, whose memory does not grow with the number of steps"
	}
	return ""
}

func gib(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.3g GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.3g MiB", b/(1<<20))
	}
	return fmt.Sprintf("%.3g KiB", b/(1<<10))
}
