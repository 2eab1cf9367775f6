package optim

import (
	"math"
	"strings"
	"testing"
)

// TestRatesAreBounded: learning rates and weight decays beyond MaxRate are refused with
// the value and the range; at the bound they are accepted.
func TestRatesAreBounded(t *testing.T) {
	for _, tc := range []struct {
		lr, wd float64
		err    string
	}{
		{1e-3, 0, ""},
		{MaxRate, MaxRate, ""},
		{0, 0, "learning rate 0 is out of range (0, 1e+06]"},
		{2 * math.MaxFloat32, 0, "learning rate 6.805646932770577e+38 is out of range"},
		{math.Inf(1), 0, "learning rate +Inf is out of range"},
		{math.NaN(), 0, "learning rate NaN is out of range"},
		{1, 1e308, "weight decay 1e+308 is out of range [0, 1e+06]"},
		{1, -1, "weight decay -1 is out of range"},
		{1, math.NaN(), "weight decay NaN is out of range"},
	} {
		_, aerr := NewAdam[float32](1, AdamConfig{LR: tc.lr, WeightDecay: tc.wd})
		_, derr := NewAdadelta[float32](1, AdadeltaConfig{LR: tc.lr, WeightDecay: tc.wd})
		for name, err := range map[string]error{"Adam": aerr, "Adadelta": derr} {
			if tc.lr == 0 && name == "Adadelta" {
				continue // 0 selects PyTorch's default rate, 1
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("%s(lr %v, wd %v): %v", name, tc.lr, tc.wd, err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("%s(lr %v, wd %v): error %v, want %q", name, tc.lr, tc.wd, err, tc.err)
			}
		}
	}
	a, _ := NewAdam[float32](1, AdamConfig{LR: 1})
	if err := a.SetLR(1e39); err == nil {
		t.Error("SetLR(1e39) accepted")
	}
}
