// Package checkpoint reads and writes model checkpoints in the safetensors format
// (https://huggingface.co/docs/safetensors), so that weights trained by gosde load from
// Python too (safetensors.numpy.load_file, torch), and writes them so that a crash never
// leaves a half-written file: a temporary file in the same directory, fsync, rename.
//
// The format: an 8-byte little-endian header length, a JSON header mapping each tensor
// name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data that
// follows) plus an optional "__metadata__" map of strings, then the data, little-endian.
// The tensors must tile the data exactly: no overlaps, no holes, no trailing bytes.
//
// gosde's own checkpoints carry the SHA-256 of the whole file — length, header and data —
// in the metadata key "gosde.checksum" (the digest itself counted as 64 zeros), so that
// an edited header (swapped offsets, altered metadata) is refused as surely as altered
// weights. Decode and Load require it; DecodeForeign and LoadForeign are the explicit
// path for safetensors files written by others, which have none.
package checkpoint

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// ChecksumKey is the metadata key under which Encode records the file's SHA-256, as
// "sha256:" and 64 hexadecimal digits.
const ChecksumKey = "gosde.checksum"

// legacyChecksumKey is where gosde before the whole-file checksum kept the SHA-256 of
// the data section alone.
const legacyChecksumKey = "gosde.sha256"

const (
	checksumPrefix = "sha256:"
	digestLen      = 2 * sha256.Size
	// zeroDigest stands for the digest while it is computed (and checked).
	zeroDigest = "0000000000000000000000000000000000000000000000000000000000000000"
)

// Bounds on what a reader accepts: the JSON header (the format's reference
// implementation uses 100 MB) and the whole file, read into memory (gosde's models are
// kilobytes to megabytes; a bound keeps /dev/zero or a sparse file from exhausting it).
const (
	maxHeader = 100 << 20
	MaxFile   = 1 << 30
)

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
		want, err := elements(t.Shape, size)
		if err != nil {
			return fmt.Errorf("checkpoint: tensor %q: %w", name, err)
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
	delete(meta, legacyChecksumKey)
	meta[ChecksumKey] = checksumPrefix + zeroDigest
	header["__metadata__"] = meta
	hj, err := json.Marshal(header)
	if err != nil {
		return err
	}
	// Pad the header with spaces to a multiple of 8 bytes, as the reference writer does.
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	if len(hj) > maxHeader {
		return fmt.Errorf("checkpoint: the header is %d bytes; readers accept at most %d", len(hj), maxHeader)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(hj)))
	at, err := digestAt(hj)
	if err != nil {
		return err
	}
	sum := fileDigest(n[:], hj, data.Bytes())
	hex.Encode(hj[at:at+digestLen], sum[:])
	for _, b := range [][]byte{n[:], hj, data.Bytes()} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// Decode parses a gosde checkpoint held in memory: a safetensors file whose tensors
// tile its data exactly, carrying the whole-file checksum that Encode writes, which
// must match.
func Decode(b []byte) (File, error) {
	return decode(b, true)
}

// DecodeForeign parses any safetensors file held in memory, with the same structural
// checks as Decode but no checksum required (one that is present must still match):
// the explicit path for importing weights written by other tools.
func DecodeForeign(b []byte) (File, error) {
	return decode(b, false)
}

func decode(b []byte, requireChecksum bool) (File, error) {
	if len(b) < 8 {
		return File{}, fmt.Errorf("%w: %d bytes is shorter than the 8-byte header length", ErrCorrupt, len(b))
	}
	hlen := binary.LittleEndian.Uint64(b)
	if hlen > maxHeader || hlen > uint64(len(b)-8) {
		return File{}, fmt.Errorf("%w: header length %d does not fit the %d-byte file (at most %d)", ErrCorrupt, hlen, len(b), maxHeader)
	}
	hj, data := b[8:8+hlen], b[8+hlen:]
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hj, &raw); err != nil {
		return File{}, fmt.Errorf("%w: header is not a JSON object: %v", ErrCorrupt, err)
	}
	f := File{Tensors: map[string]Tensor{}, Metadata: map[string]string{}}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &f.Metadata); err != nil {
			return File{}, fmt.Errorf("%w: __metadata__ is not a map of strings: %v", ErrCorrupt, err)
		}
		delete(raw, "__metadata__")
	}
	if err := verify(b[:8], hj, data, f.Metadata, requireChecksum); err != nil {
		return File{}, err
	}
	entries := make([]entry, 0, len(raw))
	for name, msg := range raw {
		e, err := parseEntry(name, msg, len(data))
		if err != nil {
			return File{}, err
		}
		entries = append(entries, e)
	}
	if err := tiles(entries, len(data)); err != nil {
		return File{}, err
	}
	for _, e := range entries {
		f.Tensors[e.name] = e.tensor(data[e.begin:e.end])
	}
	return f, nil
}

// verify checks the whole-file checksum: required for gosde's own files, checked
// whenever present.
func verify(n, hj, data []byte, meta map[string]string, required bool) error {
	want, ok := meta[ChecksumKey]
	if !ok {
		switch {
		case !required:
			return nil
		case meta[legacyChecksumKey] != "":
			return fmt.Errorf("%w: written by an older gosde whose checksum covered the tensor data only, not the header; "+
				"gosde cannot load it: train the model again with this version", ErrCorrupt)
		}
		return fmt.Errorf("%w: no %q in the metadata: not a checkpoint written by gosde (another tool's safetensors file can be read from Go with checkpoint.LoadForeign)", ErrCorrupt, ChecksumKey)
	}
	at, err := digestAt(hj)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if want != checksumPrefix+string(hj[at:at+digestLen]) {
		return fmt.Errorf("%w: the checksum in the metadata is not the one written in the header", ErrCorrupt)
	}
	zeroed := bytes.Clone(hj)
	copy(zeroed[at:at+digestLen], zeroDigest)
	sum := fileDigest(n, zeroed, data)
	if hex.EncodeToString(sum[:]) != want[len(checksumPrefix):] {
		return fmt.Errorf("%w: checksum does not match (the file was truncated or altered)", ErrCorrupt)
	}
	return nil
}

// digestAt finds the 64 digits of the checksum in the header's bytes: after the one
// occurrence of "gosde.checksum":"sha256:. The key can appear unescaped only as a key, so
// a second occurrence is a second key, which is refused rather than resolved.
func digestAt(hj []byte) (int, error) {
	pat := []byte(`"` + ChecksumKey + `":"` + checksumPrefix)
	i := bytes.Index(hj, pat)
	if i < 0 || bytes.Count(hj, pat) != 1 {
		return 0, fmt.Errorf("the header must hold %q exactly once, written plainly", ChecksumKey)
	}
	at := i + len(pat)
	if at+digestLen >= len(hj) || hj[at+digestLen] != '"' {
		return 0, fmt.Errorf("the checksum in the header is not %d digits", digestLen)
	}
	return at, nil
}

func fileDigest(n, hj, data []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(n)
	h.Write(hj)
	h.Write(data)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// entry is one tensor of the header, checked.
type entry struct {
	name       string
	dtype      string
	shape      []int
	n          int
	begin, end int
}

var dtypeSize = map[string]int{"F32": 4, "F64": 8, "I64": 8}

// parseEntry reads a tensor's header entry strictly: dtype, shape and exactly two
// data offsets, nothing else.
func parseEntry(name string, msg json.RawMessage, dataLen int) (entry, error) {
	var e struct {
		Dtype       string  `json:"dtype"`
		Shape       []int   `json:"shape"`
		DataOffsets []int64 `json:"data_offsets"`
	}
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return entry{}, fmt.Errorf("%w: tensor %q: %v", ErrCorrupt, name, err)
	}
	size := dtypeSize[e.Dtype]
	if size == 0 {
		return entry{}, fmt.Errorf("%w: tensor %q has dtype %q; gosde reads F32, F64 and I64", ErrCorrupt, name, e.Dtype)
	}
	if e.Shape == nil {
		return entry{}, fmt.Errorf("%w: tensor %q has no shape", ErrCorrupt, name)
	}
	n, err := elements(e.Shape, size)
	if err != nil {
		return entry{}, fmt.Errorf("%w: tensor %q: %v", ErrCorrupt, name, err)
	}
	if len(e.DataOffsets) != 2 {
		return entry{}, fmt.Errorf("%w: tensor %q has %d data offsets, want 2", ErrCorrupt, name, len(e.DataOffsets))
	}
	lo, hi := e.DataOffsets[0], e.DataOffsets[1]
	if lo < 0 || hi < lo || hi > int64(dataLen) || hi-lo != int64(n*size) {
		return entry{}, fmt.Errorf("%w: tensor %q has offsets [%d, %d] for %d elements of %s in %d bytes of data",
			ErrCorrupt, name, lo, hi, n, e.Dtype, dataLen)
	}
	return entry{name: name, dtype: e.Dtype, shape: e.Shape, n: n, begin: int(lo), end: int(hi)}, nil
}

// elements is the element count of shape, refusing negative dimensions and counts
// whose bytes (of size each) would overflow an int.
func elements(shape []int, size int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d == 0 {
			n = 0
		}
	}
	if n == 0 {
		return 0, nil
	}
	for _, d := range shape {
		if n > math.MaxInt/size/d {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= d
	}
	return n, nil
}

// tiles checks that the tensors cover the data exactly once: sorted by offset, each
// begins where the previous ended, the first at 0 and the last at the end of the data.
func tiles(es []entry, dataLen int) error {
	slices.SortFunc(es, func(a, b entry) int {
		if c := cmp.Compare(a.begin, b.begin); c != 0 {
			return c
		}
		return cmp.Compare(a.end, b.end)
	})
	at := 0
	for _, e := range es {
		switch {
		case e.begin < at:
			return fmt.Errorf("%w: tensor %q at [%d, %d] overlaps the tensor before it (which ends at %d)", ErrCorrupt, e.name, e.begin, e.end, at)
		case e.begin > at:
			return fmt.Errorf("%w: bytes [%d, %d) of the data belong to no tensor", ErrCorrupt, at, e.begin)
		}
		at = e.end
	}
	if at != dataLen {
		return fmt.Errorf("%w: %d trailing bytes after the last tensor", ErrCorrupt, dataLen-at)
	}
	return nil
}

func (e entry) tensor(raw []byte) Tensor {
	t := Tensor{Shape: e.shape}
	switch e.dtype {
	case "F32":
		t.F32 = make([]float32, e.n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case "F64":
		t.F64 = make([]float64, e.n)
		for i := range t.F64 {
			t.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	default:
		t.I64 = make([]int64, e.n)
		for i := range t.I64 {
			t.I64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	}
	return t
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

// WriteFileAtomic writes data to path as an output file is expected to be written:
//
//   - a regular file, or a name that does not exist yet, is replaced atomically: the data
//     goes to a temporary file beside it, synced, then renamed over it, so that a crash
//     at any moment leaves either the old file or the new one, never a mixture (nor a
//     temporary file, except after a crash: its name is "." + the file's name + ".tmp-…").
//     A new file gets the usual permissions, 0666 less the umask; a replaced one keeps
//     its own;
//   - a symbolic link is followed, and the file it names is written as above: the link
//     stays a link;
//   - a device, a named pipe or another file that is not regular is written directly,
//     as a shell's redirection would, and its errors reported (/dev/full fails,
//     /dev/stdout and a pipe's reader get the data): renaming over it would replace the
//     device node itself;
//   - a directory is refused.
//
// Errors say which file could not be written, and why.
func WriteFileAtomic(path string, data []byte) error {
	// The kernel follows the links, /proc's too (/dev/stdout names "pipe:[…]", which is
	// no path): what is not a regular file is opened by the name given.
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("writing %s: it is a directory; give the name of a file", path)
	case err == nil && !st.Mode().IsRegular():
		return writeThrough(path, path, data)
	}
	target, rerr := resolveLinks(path)
	switch {
	case rerr != nil:
		return fmt.Errorf("writing %s: %w", path, rerr)
	case err == nil:
		return replace(path, target, data, st.Mode().Perm(), true)
	case errors.Is(err, fs.ErrNotExist):
		return replace(path, target, data, 0o666, false)
	}
	return fmt.Errorf("writing %s: %w", path, cause(err))
}

// maxLinks bounds the symbolic links followed from one name, as the kernel does (40).
const maxLinks = 40

// resolveLinks follows path while it is a symbolic link, to the name it finally stands
// for, which need not exist (a shell's redirection through a dangling link creates its
// target too).
func resolveLinks(path string) (string, error) {
	for range maxLinks {
		st, err := os.Lstat(path)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return path, nil // what is wrong with it is for the writer to report
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", cause(err)
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", fmt.Errorf("more than %d levels of symbolic links", maxLinks)
}

// replace writes data to target (the file path names) through a synced temporary file
// beside it and a rename. The temporary file is created with perm, which the umask
// trims, unless keep: then it is given exactly perm, the permissions of the file it
// replaces.
func replace(path, target string, data []byte, perm fs.FileMode, keep bool) (err error) {
	dir := filepath.Dir(target)
	tmp, err := createTemp(dir, filepath.Base(target), perm)
	if err != nil {
		return fmt.Errorf("writing %s: cannot create a file in %s: %w", path, dir, cause(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if keep {
		if err = tmp.Chmod(perm); err != nil {
			return fmt.Errorf("writing %s: %w", path, cause(err))
		}
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, cause(err))
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: syncing to disk: %w", path, cause(err))
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, cause(err))
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("writing %s: moving the new file into place: %w", path, cause(err))
	}
	// Sync the directory so the rename itself survives a power loss.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// createTemp creates a new file "."+base+".tmp-" and a random suffix in dir with
// permissions perm less the umask (os.CreateTemp's are 0600, whatever the umask).
func createTemp(dir, base string, perm fs.FileMode) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("no unused temporary name for %s", base)
}

// writeThrough writes data into target, a file that is not regular (a device, a pipe),
// as it is: without truncation, which such files do not have, or a sync, which
// most of them refuse.
func writeThrough(path, target string, data []byte) error {
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, cause(err))
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, cause(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, cause(err))
	}
	return nil
}

// cause is the reason inside a *fs.PathError, whose operation and (temporary) file name
// the messages above replace by the name the user gave.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// Load reads and verifies a gosde checkpoint file (see Decode).
func Load(path string) (File, error) {
	return load(path, Decode)
}

// LoadForeign reads a safetensors file written by another tool (see DecodeForeign).
func LoadForeign(path string) (File, error) {
	return load(path, DecodeForeign)
}

func load(path string, decode func([]byte) (File, error)) (File, error) {
	b, err := readBounded(path)
	if err != nil {
		return File{}, err
	}
	f, err := decode(b)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// readBounded reads a regular file of at most MaxFile bytes: a device, a pipe or a
// (possibly sparse) file beyond the bound is refused before anything is read.
func readBounded(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	switch {
	case st.IsDir():
		return nil, fmt.Errorf("checkpoint: %s is a directory; give the checkpoint file in it", path)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("checkpoint: %s is not a regular file", path)
	case st.Size() > MaxFile:
		return nil, fmt.Errorf("%w: %s is %d bytes; a checkpoint is at most %d", ErrCorrupt, path, st.Size(), MaxFile)
	}
	b, err := io.ReadAll(io.LimitReader(fh, MaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if len(b) > MaxFile {
		return nil, fmt.Errorf("%w: %s grew beyond %d bytes while being read", ErrCorrupt, path, MaxFile)
	}
	return b, nil
}
