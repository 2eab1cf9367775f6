package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
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
		file, err := Decode(b)
		if err != nil {
			return
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
