package gan_test

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/gan"
)

// Train an SDE-GAN on the Ornstein–Uhlenbeck data for a few steps and sample from it.
// Every random quantity derives from Config.Seed, so two runs agree bit for bit.
func Example() {
	data := dataset.OU(512, 1) // 512 paths of one channel at times 0, 1, …, 63
	train := func() *gan.Model {
		cfg := gan.DefaultConfig()
		cfg.Batch, cfg.Steps, cfg.Seed = 64, 10, 7
		m, err := gan.New(cfg, data.Times)
		if err != nil {
			panic(err)
		}
		for range cfg.Steps {
			if _, err := m.Step(data); err != nil {
				panic(err)
			}
		}
		return m
	}
	m := train()
	defer m.Close()
	fake, err := m.Sample(4, 1, false) // 4 paths from the generator's current weights
	if err != nil {
		panic(err)
	}
	fmt.Println("steps:", m.Steps())
	fmt.Println("sampled paths:", fake.N, "times:", fake.T(), "channels:", fake.Channels)

	again := train()
	defer again.Close()
	fmt.Println("reproduced bit for bit:", maps.EqualFunc(m.Params(), again.Params(), slices.Equal[[]float32]))
	// Output:
	// steps: 10
	// sampled paths: 4 times: 64 channels: [y0]
	// reproduced bit for bit: true
}
