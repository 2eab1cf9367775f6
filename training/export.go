package training

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gosde/gosde/checkpoint"
	"github.com/gosde/gosde/gan"
)

// Metadata keys of a torchsde export (TorchsdeExport), besides safetensors' "format".
const (
	MetaTorchsdeModule = "torchsde.module" // "Generator" or "Discriminator"
	MetaTorchsdeArgs   = "torchsde.args"   // the module's constructor arguments, JSON
	MetaExportTimes    = "gosde.times"     // the times the model runs at, JSON
	MetaExportDt       = "gosde.dt"        // the solver's step at those times
	MetaExportAveraged = "gosde.averaged"  // "true" when the weights are the SWA averages
)

// TorchsdeExport returns the checkpoint's SDE-GAN network module (gan.TorchsdeGenerator
// or gan.TorchsdeDiscriminator) as a safetensors file that torch loads into the
// corresponding module of torchsde's examples/sde_gan.py: float32 tensors under that
// module's state-dict keys (gan.TorchsdeName), the weight averages once averaging has
// begun (the weights Sample uses). Its metadata holds the module's constructor
// arguments (MetaTorchsdeArgs), the times and step the model runs at, and the data's
// normalisation, channels and transforms: the generator makes normalised values (in
// the transformed units) at those times.
func (ck *Checkpoint) TorchsdeExport(module string) (checkpoint.File, error) {
	if ck.Config.Model == "latent-sde" {
		return checkpoint.File{}, fmt.Errorf("a latent SDE has no counterpart in torchsde's examples/sde_gan.py; export takes an sde-gan or sde-sigker checkpoint")
	}
	mod, err := ck.Model()
	if err != nil {
		return checkpoint.File{}, err
	}
	defer mod.Close()
	var g *gan.Model
	switch m := mod.(type) {
	case ganModel:
		g = m.Model
	case sigKerModel:
		g = m.Model
	default:
		return checkpoint.File{}, fmt.Errorf("a %s model has no torchsde export", ck.Config.Model)
	}
	args, err := g.Config().TorchsdeArgs(module)
	if err != nil {
		return checkpoint.File{}, err
	}
	averaged := g.SWACount() > 0
	values, shapes, err := g.TorchsdeStateDict(module, averaged)
	if err != nil {
		return checkpoint.File{}, err
	}
	f := checkpoint.File{Tensors: map[string]checkpoint.Tensor{}, Metadata: map[string]string{
		// safetensors.torch writes and expects "pt".
		"format":           "pt",
		MetaTorchsdeModule: map[string]string{gan.TorchsdeGenerator: "Generator", gan.TorchsdeDiscriminator: "Discriminator"}[module],
		MetaExportDt:       strconv.FormatFloat(g.Config().Dt, 'g', -1, 64),
		MetaExportAveraged: strconv.FormatBool(averaged),
	}}
	for name, v := range values {
		f.Tensors[name] = checkpoint.Tensor{Shape: shapes[name], F32: v}
	}
	meta := map[string]any{MetaTorchsdeArgs: args, MetaExportTimes: g.Times(), metaNorm: ck.Norm, metaChannels: ck.Channels}
	if len(ck.Config.Transforms) > 0 {
		meta["gosde.transforms"] = ck.Config.Transforms
	}
	for key, v := range meta {
		b, err := json.Marshal(v)
		if err != nil {
			return checkpoint.File{}, err
		}
		f.Metadata[key] = string(b)
	}
	return f, nil
}
