// Package checkpoint reads and writes model checkpoints in the safetensors format
// (https://huggingface.co/docs/safetensors), so that weights trained by gosde load from
// Python too (safetensors.numpy.load_file, torch), and writes them so that a crash never
// leaves a half-written file: a temporary file in the same directory, fsync, rename.
//
// The format: an 8-byte little-endian header length, a JSON header mapping each tensor
// name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data that
// follows) plus an optional "__metadata__" map of strings, then the data, little-endian.
// gosde stores the SHA-256 of the data section in the metadata key "gosde.sha256" and
// refuses a file whose data does not match it.
package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// ChecksumKey is the metadata key under which Save records the data's SHA-256.
const ChecksumKey = "gosde.sha256"

// maxHeader bounds the JSON header a reader accepts (the format's reference
// implementation uses 100 MB).
const maxHeader = 100 << 20

// ErrCorrupt is wrapped by every error about a file that is not a valid checkpoint.
var ErrCorrupt = errors.New("checkpoint: corrupt or not a safetensors file")

// Tensor is one named array. Exactly one of F32, F64 or I64 holds the data; Shape's
// product is its length (an empty Shape is a scalar of one element).
type Tensor struct {
	Shape []int
	F32   []float32
	F64   []float64
	I64   []int64
}

func (t Tensor) dtype() (string, int, int) {
	switch {
	case t.F32 != nil:
		return "F32", 4, len(t.F32)
	case t.F64 != nil:
		return "F64", 8, len(t.F64)
	default:
		return "I64", 8, len(t.I64)
	}
}

// File is a checkpoint's contents.
type File struct {
	Tensors  map[string]Tensor
	Metadata map[string]string
}

type headerEntry struct {
	Dtype       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

// Encode writes f in safetensors format, tensors in name order, with the checksum of
// the data in the metadata.
func Encode(w io.Writer, f File) error {
	names := make([]string, 0, len(f.Tensors))
	for name := range f.Tensors {
		if name == "__metadata__" || name == "" {
			return fmt.Errorf("checkpoint: invalid tensor name %q", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var data bytes.Buffer
	header := map[string]any{}
	for _, name := range names {
		t := f.Tensors[name]
		dtype, size, n := t.dtype()
		want := 1
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("checkpoint: tensor %q has negative dimension in shape %v", name, t.Shape)
			}
			want *= d
		}
		if want != n {
			return fmt.Errorf("checkpoint: tensor %q has %d elements but shape %v", name, n, t.Shape)
		}
		begin := data.Len()
		buf := make([]byte, size*n)
		switch dtype {
		case "F32":
			for i, v := range t.F32 {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
			}
		case "F64":
			for i, v := range t.F64 {
				binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
			}
		default:
			for i, v := range t.I64 {
				binary.LittleEndian.PutUint64(buf[8*i:], uint64(v))
			}
		}
		data.Write(buf)
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[name] = headerEntry{Dtype: dtype, Shape: shape, DataOffsets: [2]int{begin, data.Len()}}
	}
	meta := map[string]string{}
	for k, v := range f.Metadata {
		meta[k] = v
	}
	sum := sha256.Sum256(data.Bytes())
	meta[ChecksumKey] = hex.EncodeToString(sum[:])
	header["__metadata__"] = meta
	hj, err := json.Marshal(header)
	if err != nil {
		return err
	}
	// Pad the header with spaces to a multiple of 8 bytes, as the reference writer does.
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(hj)))
	for _, b := range [][]byte{n[:], hj, data.Bytes()} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// Decode parses a safetensors file held in memory. It checks every offset, dtype and
// shape, and the gosde checksum when present.
func Decode(b []byte) (File, error) {
	if len(b) < 8 {
		return File{}, fmt.Errorf("%w: %d bytes is shorter than the 8-byte header length", ErrCorrupt, len(b))
	}
	hlen := binary.LittleEndian.Uint64(b)
	if hlen > maxHeader || hlen > uint64(len(b)-8) {
		return File{}, fmt.Errorf("%w: header length %d does not fit the %d-byte file", ErrCorrupt, hlen, len(b))
	}
	data := b[8+hlen:]
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+hlen], &raw); err != nil {
		return File{}, fmt.Errorf("%w: header is not JSON: %v", ErrCorrupt, err)
	}
	f := File{Tensors: map[string]Tensor{}, Metadata: map[string]string{}}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &f.Metadata); err != nil {
			return File{}, fmt.Errorf("%w: __metadata__ is not a map of strings: %v", ErrCorrupt, err)
		}
		delete(raw, "__metadata__")
	}
	if want, ok := f.Metadata[ChecksumKey]; ok {
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != want {
			return File{}, fmt.Errorf("%w: data checksum does not match (the file was truncated or altered)", ErrCorrupt)
		}
	}
	for name, msg := range raw {
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return File{}, fmt.Errorf("%w: tensor %q: %v", ErrCorrupt, name, err)
		}
		size := map[string]int{"F32": 4, "F64": 8, "I64": 8}[e.Dtype]
		if size == 0 {
			return File{}, fmt.Errorf("%w: tensor %q has dtype %q; gosde reads F32, F64 and I64", ErrCorrupt, name, e.Dtype)
		}
		n := 1
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && n > len(data)/d) {
				return File{}, fmt.Errorf("%w: tensor %q has impossible shape %v", ErrCorrupt, name, e.Shape)
			}
			n *= d
		}
		lo, hi := e.DataOffsets[0], e.DataOffsets[1]
		if lo < 0 || hi < lo || hi > len(data) || hi-lo != n*size {
			return File{}, fmt.Errorf("%w: tensor %q has offsets [%d, %d] for %d elements of %s in %d bytes of data",
				ErrCorrupt, name, lo, hi, n, e.Dtype, len(data))
		}
		raw := data[lo:hi]
		t := Tensor{Shape: e.Shape}
		switch e.Dtype {
		case "F32":
			t.F32 = make([]float32, n)
			for i := range t.F32 {
				t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case "F64":
			t.F64 = make([]float64, n)
			for i := range t.F64 {
				t.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		default:
			t.I64 = make([]int64, n)
			for i := range t.I64 {
				t.I64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
		f.Tensors[name] = t
	}
	return f, nil
}

// Save writes f to path atomically: into a temporary file beside it, synced to disk,
// then renamed over path, so that a crash at any moment leaves either the old file or
// the new one, never a mixture.
func Save(path string, f File) (err error) {
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		return err
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// WriteFileAtomic writes data to path through a synced temporary file and a rename.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("checkpoint: syncing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// Sync the directory so the rename itself survives a power loss.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Load reads and verifies a checkpoint file.
func Load(path string) (File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("checkpoint: %w", err)
	}
	f, err := Decode(b)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}
