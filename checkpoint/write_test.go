package checkpoint

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// withUmask runs f with the process's umask set to mask (the tests of this package do
// not run in parallel, so nothing else creates files meanwhile).
func withUmask(mask int, f func()) {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	f()
}

func TestWriteFileAtomicPermissions(t *testing.T) {
	dir := t.TempDir()
	for _, mask := range []int{0o022, 0o027, 0o077} {
		path := filepath.Join(dir, "new"+strings.Repeat("x", mask%7))
		os.Remove(path)
		var err error
		withUmask(mask, func() { err = WriteFileAtomic(path, []byte("a")) })
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := fs.FileMode(0o666 &^ mask); st.Mode().Perm() != want {
			t.Errorf("umask %03o: new file has mode %v, want %v", mask, st.Mode().Perm(), want)
		}
	}
	// A replaced file keeps its permissions, whatever the umask.
	path := filepath.Join(dir, "kept")
	if err := os.WriteFile(path, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o604); err != nil {
		t.Fatal(err)
	}
	var err error
	withUmask(0o077, func() { err = WriteFileAtomic(path, []byte("new")) })
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o604 {
		t.Errorf("replaced file has mode %v, want -rw----r--", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("replaced file holds %q", b)
	}
}

// TestWriteFileAtomicFollowsLinks: a symbolic link stays a link and its target is
// replaced; a dangling link's target is created.
func TestWriteFileAtomicFollowsLinks(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(sub, "real.csv")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink("sub/real.csv", link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	chain := filepath.Join(dir, "chain.csv") // a link to a link
	if err := os.Symlink("link.csv", chain); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{link, chain} {
		data := []byte{'a' + byte(i)}
		if err := WriteFileAtomic(name, data); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(name); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("%s is no longer a symbolic link (%v)", name, err)
		}
		if b, _ := os.ReadFile(target); string(b) != string(data) {
			t.Errorf("writing through %s: the target holds %q, want %q", name, b, data)
		}
	}
	dangling := filepath.Join(dir, "dangling.csv")
	if err := os.Symlink("sub/created.csv", dangling); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(dangling, []byte("c")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(sub, "created.csv")); err != nil || string(b) != "c" {
		t.Errorf("the dangling link's target holds %q (%v)", b, err)
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink("loop", loop); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(loop, []byte("d")); err == nil || !strings.Contains(err.Error(), "symbolic links") {
		t.Errorf("a link to itself: %v", err)
	}
	if st, err := os.Lstat(loop); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the looping link was replaced (%v)", err)
	}
	assertNoTemporaries(t, dir)
	assertNoTemporaries(t, sub)
}

// TestWriteFileAtomicWritesDevicesThrough: a device node is written, not replaced, and
// its error is reported: a full device's write fails.
func TestWriteFileAtomicWritesDevicesThrough(t *testing.T) {
	dir := t.TempDir()
	// A node of its own for /dev/full (char 1, 7), so that a writer that replaced device
	// nodes would replace this one and not the system's.
	full := filepath.Join(dir, "full")
	if err := syscall.Mknod(full, syscall.S_IFCHR|0o666, int((1<<8)|7)); err != nil {
		t.Skipf("cannot make a device node here: %v", err)
	}
	err := WriteFileAtomic(full, []byte("data"))
	if err == nil || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), full) {
		t.Errorf("writing to a full device: %v, want its no-space error naming it", err)
	}
	if err != nil && strings.HasPrefix(err.Error(), "checkpoint:") {
		t.Errorf("error %q blames a checkpoint", err)
	}
	if st, err := os.Lstat(full); err != nil || st.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("the device node was replaced (%v, %v)", st.Mode(), err)
	}
	assertNoTemporaries(t, dir)
}

// TestWriteFileAtomicWritesPipesThrough: a named pipe's reader gets the data.
func TestWriteFileAtomicWritesPipesThrough(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until the writer opens it
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	if err := WriteFileAtomic(fifo, []byte("through the pipe")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("the pipe was replaced (%v)", err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("the reader got %q", s)
	}
}

// TestWriteFileAtomicWritesProcLinks: /proc/self/fd/N of a pipe (what /dev/stdout is
// under a shell's pipe) is written through, though its link names no path.
func TestWriteFileAtomicWritesProcLinks(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	path := fmt.Sprintf("/proc/self/fd/%d", w.Fd())
	if _, err := os.Stat(path); err != nil {
		w.Close()
		t.Skipf("no /proc here: %v", err)
	}
	err = WriteFileAtomic(path, []byte("to stdout"))
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "to stdout" {
		t.Errorf("the pipe carried %q", b)
	}
}

func TestWriteFileAtomicErrors(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFileAtomic(dir, []byte("x")); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("writing over a directory: %v", err)
	}
	missing := filepath.Join(dir, "no", "such", "dir", "out.csv")
	err := WriteFileAtomic(missing, []byte("x"))
	if err == nil || !strings.HasPrefix(err.Error(), "writing "+missing+": ") {
		t.Errorf("writing into a missing directory: %v, want an error naming the file", err)
	}
}

func assertNoTemporaries(t *testing.T, dir string) {
	t.Helper()
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}
