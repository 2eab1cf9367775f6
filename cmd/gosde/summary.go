package main

import (
	"fmt"
	"io"

	"github.com/gosde/gosde/metrics"
	"github.com/gosde/gosde/training"
)

// printSummary prints a finished run's metrics: untrained beside trained, each trained
// headline metric's spread over the evaluation's draws, the generated values' scale,
// the model's own test loss with what it means, and the metrics' warnings, last and loud.
func printSummary(o io.Writer, model string, res *training.Result) {
	u, t := res.Untrained, res.Trained
	fmt.Fprintf(o, "trained %d steps in %.0f s on the %s engine\n", res.Steps, res.Seconds, res.Engine)
	fmt.Fprintf(o, "%-26s %12s %12s\n", "metric", "untrained", "trained")
	if u != nil {
		// spread is "; N draws: median M, A–B" in the format f, or "" for one draw.
		spread := func(format string, pick func(*metrics.Spread) metrics.Summary) string {
			if t.Spread == nil {
				return ""
			}
			s := pick(t.Spread)
			return fmt.Sprintf("; %d draws: median "+format+", "+format+"–"+format, t.Spread.Draws, s.Median, s.Min, s.Max)
		}
		ratio := spread("%.1f", func(s *metrics.Spread) metrics.Summary { return s.MMDRatio })
		if ratio != "" {
			ratio += "×"
		}
		fmt.Fprintf(o, "%-26s %12.4g %12.4g   (real-vs-real floor %.4g: trained is %.1f× it%s; no generated set can score above %.0f×)\n",
			"signature MMD²", u.MMD, t.MMD, t.MMDFloor, t.MMD/t.MMDFloor,
			ratio, t.MMDCeilingRatio)
		fmt.Fprintf(o, "%-26s %12.3f %12.3f   (two real halves: %.3f%s)\n", "largest marginal KS", u.KSMax, t.KSMax, t.KSMaxFloor,
			spread("%.3f", func(s *metrics.Spread) metrics.Summary { return s.KSMax }))
		fmt.Fprintf(o, "%-26s %12.3f %12.3f   (0.5 is perfect%s)\n", "classifier accuracy", u.ClassifierAccuracy, t.ClassifierAccuracy,
			spread("%.3f", func(s *metrics.Spread) metrics.Summary { return s.ClassifierAccuracy }))
		fmt.Fprintf(o, "%-26s %12.4g %12.4g   (train on real: %.4g%s)\n", "prediction MSE (TSTR)", u.TSTRMSE, t.TSTRMSE, t.TRTRMSE,
			spread("%.4g", func(s *metrics.Spread) metrics.Summary { return s.TSTRMSE }))
		fmt.Fprintf(o, "%-26s %12.3f %12.3f   (two real halves: %.3f%s)\n", "raw-path classifier", u.RawClassifierAccuracy, t.RawClassifierAccuracy, t.RawClassifierFloor,
			spread("%.3f", func(s *metrics.Spread) metrics.Summary { return s.RawClassifierAccuracy }))
		fmt.Fprintf(o, "%-26s %12.3f %12.3f   (largest difference from the real test set's%s)\n", "corr(last, first)", u.CorrLastFirstMaxDiff, t.CorrLastFirstMaxDiff,
			spread("%.3f", func(s *metrics.Spread) metrics.Summary { return s.CorrLastFirstMaxDiff }))
		fmt.Fprintf(o, "%-26s %12.3g %12.3g   (largest |generated/real − 1|%s)\n", "increment spread", u.IncrementStdMaxRelDiff, t.IncrementStdMaxRelDiff,
			spread("%.3g", func(s *metrics.Spread) metrics.Summary { return s.IncrementStdMaxRelDiff }))
		fmt.Fprintf(o, "%-26s %12.3g %12.3g   (largest std ratio to the real one, either way; %.1f%% of generated values beyond the real range)\n",
			"generated scale", u.ScaleRatioMax, t.ScaleRatioMax, 100*t.OutsideFraction)
	}
	fmt.Fprintf(o, "test loss %.4g: %s\n", res.TestLoss, training.TestLossMeaning(model))
	// Training's own warnings were shown as they were raised; these are the metrics'.
	for _, w := range t.Warnings {
		fmt.Fprintf(o, "WARNING: %s\n", w)
	}
}
