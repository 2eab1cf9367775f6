package main

import (
	"os"
	"strings"
	"testing"
)

// --device is checked by every command that computes, before it reads or writes
// anything. This test binary has no GPU engine linked in.
func TestDeviceFlag(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--model", "latent-sde", "--device", "gpu"}, "the latent SDE runs on the CPU engine only"},
		{[]string{"train", "--device", "GPU"}, "unknown device"},
		{[]string{"sample", "--checkpoint", "TMP/none", "--out", "TMP/x.csv", "--device", "gpu"}, "without GPU support"},
		{[]string{"sample", "--checkpoint", "TMP/none", "--out", "TMP/x.csv", "--device", "tpu"}, "unknown device"},
		{[]string{"eval", "--checkpoint", "TMP/none", "--device", "gpu"}, "without GPU support"},
		{[]string{"eval", "--checkpoint", "TMP/none", "--device", "cpu"}, "no such file"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		args := make([]string, len(c.args))
		for i, a := range c.args {
			args[i] = strings.ReplaceAll(a, "TMP", dir)
		}
		out, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error()+out, c.want) {
			t.Errorf("gosde %v: error %v, want one mentioning %q", c.args, err, c.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("gosde %v left %d files behind", c.args, len(entries))
		}
	}
}
