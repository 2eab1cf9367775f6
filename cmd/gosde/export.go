package main

import (
	"fmt"

	"github.com/gosde/gosde/checkpoint"
	"github.com/gosde/gosde/gan"
	"github.com/gosde/gosde/training"
	"github.com/spf13/cobra"
)

func newExportCommand() *cobra.Command {
	var ckpt, out, module string
	cmd := &cobra.Command{
		Use:   "export --checkpoint RUN_DIR --out generator.safetensors [--module generator|discriminator]",
		Short: "Write an SDE-GAN's generator (or discriminator) under the names of torchsde's example, for torch to load",
		Long: `export writes one network of an sde-gan or sde-sigker checkpoint — the generator by
default, or the discriminator — as a safetensors file whose tensors carry the state-dict
keys of the corresponding module of torchsde's examples/sde_gan.py (Generator or
Discriminator): _initial._model.0.weight, _func._drift._model.0.weight, …, _readout.bias.
The weights are the weight averages once averaging has begun, as sample uses. The file's
metadata holds the module's constructor arguments (torchsde.args), the times and step the
model runs at (gosde.times, gosde.dt) and the data's normalisation. Load it with
safetensors.torch.load_file, or with a few lines of numpy (see the README), and
module.load_state_dict.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if ckpt == "" || out == "" {
				return fmt.Errorf("--checkpoint and --out are required")
			}
			if module != gan.TorchsdeGenerator && module != gan.TorchsdeDiscriminator {
				return fmt.Errorf("--module %q: give %s or %s", module, gan.TorchsdeGenerator, gan.TorchsdeDiscriminator)
			}
			ck, err := openCheckpoint(ckpt, "cpu")
			if err != nil {
				return err
			}
			defer closeEngine(ck.Engine, &err)
			f, err := ck.TorchsdeExport(module)
			if err != nil {
				return err
			}
			if err := checkpoint.Save(out, f); err != nil {
				return err
			}
			which := "current weights"
			if f.Metadata[training.MetaExportAveraged] == "true" {
				which = "weight averages"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote the %s (%d tensors, %s) under torchsde's example names to %s\n", module, len(f.Tensors), which, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&ckpt, "checkpoint", "", "a run directory of an sde-gan or sde-sigker model, or the checkpoint file in it (model.safetensors)")
	cmd.Flags().StringVar(&out, "out", "", "safetensors file to write")
	cmd.Flags().StringVar(&module, "module", gan.TorchsdeGenerator, "network to write: generator (the example's Generator) or discriminator (its Discriminator)")
	return cmd
}
