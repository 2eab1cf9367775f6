package training

import (
	"strings"
	"testing"
)

func TestTorchsdeExportRefusesLatentSDE(t *testing.T) {
	ck := &Checkpoint{Config: DefaultConfig()}
	ck.Config.Model = "latent-sde"
	if _, err := ck.TorchsdeExport("generator"); err == nil || !strings.Contains(err.Error(), "latent SDE has no counterpart") {
		t.Errorf("export of a latent SDE: %v", err)
	}
}
