package main

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gosde/gosde/dataset"
)

// trainTiny trains a two-step SDE-GAN on data (ou when empty) and returns the run
// directory.
func trainTiny(t testing.TB, data string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--steps", "2", "--batch", "8", "--hidden", "3", "--width", "3", "--eval-paths", "16", "--out", dir}
	if data != "" {
		args = append(args, "--data", data)
	}
	cmd := newRootCommand()
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return dir
}

// TestSampleOutput: sample --out writes through a symbolic link to the file it names,
// through a device (reporting the device's error: a full one fails), and gives a new
// file the umask's permissions; errors name the file, not a checkpoint.
func TestSampleOutput(t *testing.T) {
	dir := trainTiny(t, "")
	tmp := t.TempDir()
	target := filepath.Join(tmp, "samples.csv")
	link := filepath.Join(tmp, "latest.csv")
	if err := os.Symlink("samples.csv", link); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	old := syscall.Umask(0o022)
	out, err := run(t, "sample", "--checkpoint", dir, "--n", "5", "--out", link)
	syscall.Umask(old)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("--out through a link replaced the link (%v)", err)
	}
	st, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("samples written with mode %v, want -rw-r--r-- (0666 less the umask 022)", st.Mode().Perm())
	}
	p, err := dataset.LoadCSV(target, dataset.CSVOptions{})
	if err != nil || p.N != 5 {
		t.Fatalf("the samples do not read back: %v", err)
	}
	full := filepath.Join(tmp, "full")
	if err := syscall.Mknod(full, syscall.S_IFCHR|0o666, (1<<8)|7); err != nil {
		t.Skipf("cannot make a device node here: %v", err)
	}
	_, err = run(t, "sample", "--checkpoint", dir, "--n", "5", "--out", full)
	if err == nil || !strings.Contains(err.Error(), "writing "+full+": no space left on device") || strings.Contains(err.Error(), "checkpoint:") {
		t.Errorf("sample to a full device: %v", err)
	}
}

// TestSampleAndEvalBoundMemory: absurd numbers of paths, and data that is not a file,
// are refused with a message instead of exhausting the memory.
func TestSampleAndEvalBoundMemory(t *testing.T) {
	if _, err := os.ReadFile("/proc/meminfo"); err != nil {
		t.Skip("no /proc/meminfo: the memory check is skipped here")
	}
	dir := trainTiny(t, "")
	out := filepath.Join(t.TempDir(), "x.csv")
	// 10⁸ paths × 64 times: 51 GB of values, 770 GB of text.
	if _, err := run(t, "sample", "--checkpoint", dir, "--n", "100000000", "--out", out); err == nil || !strings.Contains(err.Error(), "give a smaller --n") {
		t.Errorf("sample --n 10⁸: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused sample wrote its output")
	}
	if _, _, err := runSplit(t, "eval", "--checkpoint", dir, "--n", "100000000"); err == nil || !strings.Contains(err.Error(), "give a smaller --n") {
		t.Errorf("eval --n 10⁸: %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, _, err := runSplit(t, "eval", "--checkpoint", dir, "--data", "/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("eval --data /dev/zero: %v", err)
		}
		if _, err := run(t, "train", "--data", "/dev/zero", "--out", filepath.Join(t.TempDir(), "r")); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("train --data /dev/zero: %v", err)
		}
	}
}

// TestChannelsNamedLikeColumnsSample: a model trained on channels named t and path
// samples, and its samples read back with the same channels.
func TestChannelsNamedLikeColumnsSample(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,time,t,path\n")
	for i := range 40 {
		for k := range 4 {
			fmt.Fprintf(&b, "s%d,%d,%g,%g\n", i, k, math.Sin(float64(i+k)), math.Cos(float64(i*k)))
		}
	}
	data := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := trainTiny(t, data)
	out := filepath.Join(t.TempDir(), "samples.csv")
	if msg, err := run(t, "sample", "--checkpoint", dir, "--n", "7", "--out", out); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	p, err := dataset.LoadCSV(out, dataset.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.N != 7 || p.T() != 4 || strings.Join(p.Channels, ",") != "t,path" {
		t.Errorf("samples: %d paths × %d times, channels %q", p.N, p.T(), p.Channels)
	}
}

// FuzzSampleEval runs sample and eval with arbitrary flags against a real checkpoint:
// they must never panic or exit, and what sample writes must read back.
func FuzzSampleEval(f *testing.F) {
	for _, s := range []string{
		"--n 5 --seed 3", "--n 0", "--n -1", "--n 4 --device cpu", "--n 9 --seed 18446744073709551615",
		"--n 4 --data ou", "--n 3 --data air", "--device gpu", "--n abc", "--seed -1", "--n 4 --data x.csv",
	} {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s)
	}
	dir := trainTiny(f, "")
	f.Fuzz(func(t *testing.T, which uint8, rest string) {
		args := strings.Fields(rest)
		for i, a := range args {
			if strings.ContainsAny(a, `/\`) || strings.Contains(a, "..") {
				t.Skip() // only names inside the scratch directory
			}
			// Large numbers of paths are refused only where they do not fit; at fuzzing
			// speed, stay small.
			if n, err := strconv.ParseInt(strings.TrimPrefix(a, "--n="), 10, 64); err == nil && n > 200 && (i > 0 && args[i-1] == "--n" || strings.HasPrefix(a, "--n=")) {
				t.Skip()
			}
		}
		t.Chdir(t.TempDir())
		if which%2 == 0 {
			args = append([]string{"sample", "--checkpoint", dir, "--out", "s.csv"}, args...)
		} else {
			args = append([]string{"eval", "--checkpoint", dir}, args...)
		}
		if _, err := run(t, args...); err != nil || args[0] != "sample" {
			return
		}
		if _, err := dataset.LoadCSV("s.csv", dataset.CSVOptions{}); err != nil {
			t.Fatalf("%q: the samples do not read back: %v", args, err)
		}
	})
}
