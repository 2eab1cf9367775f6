package gan

import (
	"math"
	"strings"
	"testing"
)

// TestRatesAreChecked: learning rates and weight decay out of range are refused by New
// with a message naming the setting and its range (1e308 gave an exit-0 run whose
// optimiser state was infinite, and rates beyond float32 were accepted).
func TestRatesAreChecked(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		err  string
	}{
		{func(c *Config) { c.WeightDecay = 1e308 }, "gan: weight decay 1e+308 is out of range [0, 1e+06]"},
		{func(c *Config) { c.WeightDecay = -0.5 }, "gan: weight decay -0.5 is out of range"},
		{func(c *Config) { c.GenLR = 1e39 }, "gan: generator learning rate 1e+39 is out of range (0, 1e+06]"},
		{func(c *Config) { c.DiscLR = math.Inf(1) }, "gan: discriminator learning rate +Inf is out of range"},
		{func(c *Config) { c.DiscLR = 0 }, "gan: discriminator learning rate 0 is out of range"},
	} {
		cfg := smallConfig()
		tc.edit(&cfg)
		if _, err := New(cfg, uniformTimes(4)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("error %v, want %q", err, tc.err)
		}
	}
	cfg := smallConfig()
	cfg.GenLR, cfg.DiscLR, cfg.WeightDecay = 1e6, 1e6, 1e6
	if _, err := New(cfg, uniformTimes(4)); err != nil {
		t.Errorf("rates at the bound: %v", err)
	}
}
