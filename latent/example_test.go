package latent_test

import (
	"fmt"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/latent"
)

// Fit a latent SDE to the Ornstein–Uhlenbeck data by its ELBO, with exact gradients
// (reversible Heun and its algebraic adjoint), and score it on held-out paths.
func Example() {
	data := dataset.OU(512, 1) // 512 paths of one channel at times 0, 1, …, 63
	train, test := dataset.Split(data, 0.75, 1)
	cfg := latent.DefaultConfig()
	cfg.Batch, cfg.Steps, cfg.Seed = 64, 40, 1
	m, err := latent.New(cfg, data.Times)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	before, err := m.Evaluate(test, 1) // −ELBO per path on the test set
	if err != nil {
		panic(err)
	}
	for range cfg.Steps {
		if _, err := m.Step(train); err != nil {
			panic(err)
		}
	}
	after, err := m.Evaluate(test, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println("train/test paths:", train.N, test.N)
	fmt.Println("test −ELBO lower after", m.Steps(), "steps:", after < before)
	fake, err := m.Sample(3, 1, false) // paths decoded from the prior SDE
	if err != nil {
		panic(err)
	}
	fmt.Println("sampled paths:", fake.N, "times:", fake.T())
	// Output:
	// train/test paths: 384 128
	// test −ELBO lower after 40 steps: true
	// sampled paths: 3 times: 64
}
