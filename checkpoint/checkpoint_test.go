package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func sample() File {
	return File{
		Tensors: map[string]Tensor{
			"gen.w":  {Shape: []int{2, 3}, F32: []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0}},
			"opt.v":  {Shape: []int{4}, F64: []float64{1e-300, -1, 2, math.Pi}},
			"step":   {Shape: []int{}, I64: []int64{12345}},
			"empty":  {Shape: []int{0}, F32: []float32{}},
			"matrix": {Shape: []int{1, 1}, I64: []int64{-7}},
		},
		Metadata: map[string]string{"model": "sde-gan"},
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	for name, w := range want.Tensors {
		g := got.Tensors[name]
		if !reflect.DeepEqual(g.Shape, w.Shape) || len(g.F32) != len(w.F32) || !reflect.DeepEqual(g.F64, w.F64) || !reflect.DeepEqual(g.I64, w.I64) {
			t.Errorf("%s: got %+v, want %+v", name, g, w)
		}
		for i := range w.F32 {
			if math.Float32bits(g.F32[i]) != math.Float32bits(w.F32[i]) {
				t.Errorf("%s[%d]: got %v, want %v", name, i, g.F32[i], w.F32[i])
			}
		}
	}
	if got.Metadata["model"] != "sde-gan" || got.Metadata[ChecksumKey] == "" {
		t.Errorf("metadata %v", got.Metadata)
	}
}

// The layout a Python reader expects, written out by hand: header length, JSON
// header padded to 8 bytes, data little-endian at the stated offsets.
func TestLayoutIsSafetensors(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, File{Tensors: map[string]Tensor{"a": {Shape: []int{2}, F32: []float32{1, 2}}}}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 || int(8+n+8) != len(b) {
		t.Fatalf("header length %d, file %d bytes", n, len(b))
	}
	if !bytes.Contains(b[8:8+n], []byte(`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`)) {
		t.Fatalf("header %s", b[8:8+n])
	}
	if math.Float32frombits(binary.LittleEndian.Uint32(b[8+n+4:])) != 2 {
		t.Fatal("data not little-endian float32 at its offset")
	}
}

func TestCorruptionIsRefused(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flip := append([]byte(nil), good...)
	flip[len(flip)-3] ^= 1
	cases := map[string][]byte{
		"empty":          {},
		"short":          good[:5],
		"truncated":      good[:len(good)-4],
		"bit flip":       flip,
		"huge header":    append([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, good[8:]...),
		"not json":       append([]byte{4, 0, 0, 0, 0, 0, 0, 0}, []byte("nope")...),
		"bad offsets":    mk(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}`, 8),
		"bad dtype":      mk(`{"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}`, 1),
		"neg shape":      mk(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4),
		"shape overflow": mk(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}`, 0),
	}
	for name, b := range cases {
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
		if _, err := DecodeForeign(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s (foreign): got %v, want ErrCorrupt", name, err)
		}
	}
}

// TestHeaderIsProtected alters a good file's header in ways that keep it a valid
// safetensors file — swapped offsets of two same-sized tensors, an edited metadata
// value of the same length, the checksum removed — and expects Decode to refuse each.
func TestHeaderIsProtected(t *testing.T) {
	f := File{Tensors: map[string]Tensor{
		"a": {Shape: []int{2}, F32: []float32{1, 2}},
		"b": {Shape: []int{2}, F32: []float32{3, 4}},
	}, Metadata: map[string]string{"gosde.normalization": `{"mean":[1.5]}`}}
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	if _, err := Decode(good); err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) []byte {
		if len(old) != len(new) || !bytes.Contains(good, []byte(old)) {
			t.Fatalf("cannot replace %q by %q", old, new)
		}
		return bytes.Replace(bytes.Clone(good), []byte(old), []byte(new), 1)
	}
	// a's offsets become b's and b's a's: the header keeps its length.
	s1, s2 := []byte(`"data_offsets":[0,8]}`), []byte(`"data_offsets":[8,16]}`)
	i1, i2 := bytes.Index(good, s1), bytes.Index(good, s2)
	if i1 < 0 || i2 < i1 {
		t.Fatalf("unexpected header %s", good)
	}
	swapped := slices.Concat(good[:i1], s2, good[i1+len(s1):i2], s1, good[i2+len(s2):])
	if got, err := DecodeForeign(withoutChecksumCheck(t, swapped)); err != nil || got.Tensors["a"].F32[0] != 3 {
		t.Fatalf("the swap does not make a valid file with other weights: %v %v", got.Tensors["a"], err)
	}
	cases := map[string][]byte{
		"swapped offsets": swapped,
		"edited metadata": replace(`{\"mean\":[1.5]}`, `{\"mean\":[9.5]}`),
	}
	// The checksum's first digit changed.
	at := bytes.Index(good, []byte(`"gosde.checksum":"sha256:`)) + len(`"gosde.checksum":"sha256:`)
	digit := bytes.Clone(good)
	digit[at] ^= 1
	cases["edited checksum"] = digit
	for name, b := range cases {
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
	// Without the checksum it is not a gosde checkpoint, but a foreign file may read it.
	bare := mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"gosde.model":"sde-gan"}}`, 4)
	if _, err := Decode(bare); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "LoadForeign") {
		t.Errorf("no checksum: got %v, want ErrCorrupt pointing to LoadForeign", err)
	}
	if _, err := DecodeForeign(bare); err != nil {
		t.Errorf("foreign file without checksum: %v", err)
	}
	legacy := mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"gosde.sha256":"00"}}`, 4)
	if _, err := Decode(legacy); err == nil || !strings.Contains(err.Error(), "older gosde") {
		t.Errorf("legacy checksum: got %v", err)
	}
}

// withoutChecksumCheck removes the checksum key from a file's header, keeping its
// length (the key is renamed), so that DecodeForeign shows what the bytes decode to.
func withoutChecksumCheck(t *testing.T, b []byte) []byte {
	t.Helper()
	return bytes.Replace(bytes.Clone(b), []byte(`"gosde.checksum"`), []byte(`"gosde.checksuX"`), 1)
}

// TestSafetensorsRules are the format's rules that gosde relies on, each broken once.
func TestSafetensorsRules(t *testing.T) {
	cases := map[string][]byte{
		"three offsets":  mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 4),
		"one offset":     mk(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0]}}`, 0),
		"overlap":        mk(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
		"hole":           mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, 12),
		"not at zero":    mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
		"trailing bytes": mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 5),
		"unknown field":  mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}`, 4),
		"no shape":       mk(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, 4),
		"duplicate name": mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
		"not an object":  mk(`[1,2]`, 0),
	}
	for name, b := range cases {
		if _, err := DecodeForeign(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
	ok := mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"z":{"dtype":"F64","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}  `, 8)
	if _, err := DecodeForeign(ok); err != nil {
		t.Errorf("a valid file with an empty tensor between two others: %v", err)
	}
}

// TestEncodeAndDecodeAgreeOnShapes: whatever Encode writes, Decode reads.
func TestEncodeAndDecodeAgreeOnShapes(t *testing.T) {
	for _, shape := range [][]int{{}, {0}, {1 << 62, 0}, {0, 1 << 62, 1 << 62}, {3, 1}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		var buf bytes.Buffer
		if err := Encode(&buf, File{Tensors: map[string]Tensor{"a": {Shape: shape, F64: make([]float64, n)}}}); err != nil {
			t.Errorf("%v: Encode: %v", shape, err)
			continue
		}
		if _, err := Decode(buf.Bytes()); err != nil {
			t.Errorf("%v: Decode refuses what Encode wrote: %v", shape, err)
		}
	}
	if err := Encode(&bytes.Buffer{}, File{Tensors: map[string]Tensor{"a": {Shape: []int{1 << 40, 1 << 40}, F32: []float32{1}}}}); err == nil {
		t.Error("Encode accepted a shape whose size overflows")
	}
}

// TestLoadBoundsWhatItReads: devices, directories and files beyond MaxFile are refused
// before they are read.
func TestLoadBoundsWhatItReads(t *testing.T) {
	dir := t.TempDir()
	sparse := filepath.Join(dir, "sparse.safetensors")
	fh, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := fh.Truncate(MaxFile + 1); err != nil {
		t.Skipf("cannot make a sparse file here: %v", err)
	}
	fh.Close()
	for name, path := range map[string]string{"device": "/dev/zero", "directory": dir, "too large": sparse} {
		if name == "device" {
			if _, err := os.Stat(path); err != nil {
				continue
			}
		}
		if _, err := Load(path); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
		if _, err := LoadForeign(path); err == nil {
			t.Errorf("%s: LoadForeign succeeded", name)
		}
	}
}

func mk(header string, data int) []byte {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	return append(append(n[:], header...), make([]byte, data)...)
}

func TestEncodeErrors(t *testing.T) {
	for name, f := range map[string]File{
		"shape mismatch": {Tensors: map[string]Tensor{"a": {Shape: []int{3}, F32: []float32{1}}}},
		"reserved name":  {Tensors: map[string]Tensor{"__metadata__": {Shape: []int{1}, F32: []float32{1}}}},
		"negative dim":   {Tensors: map[string]Tensor{"a": {Shape: []int{-1, -1}, F32: []float32{1}}}},
	} {
		if err := Encode(&bytes.Buffer{}, f); err == nil {
			t.Errorf("%s: Encode succeeded", name)
		}
	}
}

func TestSaveIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := Save(path, sample()); err != nil {
		t.Fatal(err)
	}
	// A failing save (bad tensor) leaves the old file intact and no temporary behind.
	bad := File{Tensors: map[string]Tensor{"a": {Shape: []int{9}, F32: []float32{1}}}}
	if err := Save(path, bad); err == nil {
		t.Fatal("Save of a bad file succeeded")
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("old checkpoint lost: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the checkpoint", len(entries))
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, sample())
	f.Add(buf.Bytes())
	f.Add(mk(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, 8))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		strict, serr := Decode(b)
		file, err := DecodeForeign(b)
		if serr == nil && err != nil {
			t.Fatalf("Decode accepts what DecodeForeign refuses: %v", err)
		}
		if err != nil {
			return
		}
		if serr == nil && len(strict.Tensors) != len(file.Tensors) {
			t.Fatalf("Decode and DecodeForeign read %d and %d tensors", len(strict.Tensors), len(file.Tensors))
		}
		// Whatever decodes must encode and decode to the same tensors.
		var out bytes.Buffer
		if err := Encode(&out, file); err != nil {
			t.Fatalf("decoded file does not encode: %v", err)
		}
		again, err := Decode(out.Bytes())
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) {
			t.Fatalf("%d tensors became %d", len(file.Tensors), len(again.Tensors))
		}
	})
}
