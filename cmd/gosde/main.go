// Command gosde trains, samples, evaluates and benchmarks neural stochastic differential
// equations with exact, memory-efficient gradients (reversible Heun and its algebraic
// adjoint, the Brownian Interval).
//
// Usage:
//
//	gosde train   [--model sde-gan|latent-sde] [--data ou|air-quality|FILE] [flags]
//	gosde sample  --checkpoint FILE --n N --out samples.csv
//	gosde eval    --checkpoint FILE [--data ou|air-quality|FILE]
//	gosde export  --checkpoint FILE --out generator.safetensors [--module generator|discriminator]
//	gosde bench   [brownian|solvers|memory|engine|gan|all] [--quick] [--json]
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "gosde:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "gosde",
		Short: "Neural SDEs with exact, memory-efficient gradients",
		Long: `gosde trains and samples neural stochastic differential equations with exact,
memory-efficient gradients: the reversible Heun solver with its algebraic adjoint, and
the Brownian Interval (Kidger et al., "Efficient and Accurate Gradients for Neural SDEs",
NeurIPS 2021).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newBenchCommand(), newTrainCommand(), newSampleCommand(), newEvalCommand(), newExportCommand(), newDevicesCommand())
	return root
}
