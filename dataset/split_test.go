package dataset

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// numbered is n paths of 2 times and 1 channel whose every value is the path index.
func numbered(n int) *Paths {
	p := &Paths{Times: []float64{0, 1}, Channels: []string{"i"}, N: n, Values: make([]float64, 2*n)}
	for i := range p.Values {
		p.Values[i] = float64(i / 2)
	}
	return p
}

func ids(p *Paths) []int {
	out := make([]int, p.N)
	for i := range out {
		out[i] = int(p.At(i, 0, 0))
	}
	return out
}

func TestSubset(t *testing.T) {
	p := numbered(5)
	q := Subset(p, []int{4, 0, 4})
	if got := ids(q); !slices.Equal(got, []int{4, 0, 4}) || q.T() != 2 || q.Channels[0] != "i" {
		t.Errorf("Subset: %v", got)
	}
	q.Values[0], q.Times[0], q.Channels[0] = -1, -1, "x"
	if p.Values[8] != 4 || p.Times[0] != 0 || p.Channels[0] != "i" {
		t.Error("Subset shares storage with its source")
	}
	r := SubsetInto(q, p, []int{1})
	if r != q || !slices.Equal(ids(r), []int{1}) || len(r.Values) != 2 {
		t.Errorf("SubsetInto: %v", ids(r))
	}
	defer func() {
		if recover() == nil {
			t.Error("out-of-range index: no panic")
		}
	}()
	Subset(p, []int{5})
}

func TestSplit(t *testing.T) {
	p := numbered(101)
	for _, tc := range []struct {
		frac  float64
		wantA int
	}{{0.8, 81}, {0, 0}, {1, 101}, {-3, 0}, {7, 101}, {0.5, 51}} {
		a, b := Split(p, tc.frac, 1)
		if a.N != tc.wantA || a.N+b.N != 101 {
			t.Errorf("frac %v: %d + %d paths", tc.frac, a.N, b.N)
			continue
		}
		all := append(ids(a), ids(b)...)
		if !slices.IsSorted(ids(a)) || !slices.IsSorted(ids(b)) {
			t.Errorf("frac %v: parts not in original order", tc.frac)
		}
		slices.Sort(all)
		for i, v := range all {
			if v != i {
				t.Fatalf("frac %v: parts are not a partition", tc.frac)
			}
		}
	}
	a1, _ := Split(p, 0.5, 1)
	a2, _ := Split(p, 0.5, 1)
	a3, _ := Split(p, 0.5, 2)
	if !slices.Equal(ids(a1), ids(a2)) || slices.Equal(ids(a1), ids(a3)) {
		t.Error("Split is not a seeded random choice")
	}
	if ids(a1)[50] == 50 {
		t.Error("Split took the first paths")
	}
}

func TestSampler(t *testing.T) {
	p := numbered(10)
	s, err := NewSampler(p, 4, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, 10)
	var batch *Paths
	for k := 0; k < 2000; k++ {
		batch = s.Next(batch)
		got := ids(batch)
		if len(got) != 4 {
			t.Fatalf("batch of %d", len(got))
		}
		sorted := slices.Sorted(slices.Values(got))
		if len(slices.Compact(sorted)) != 4 {
			t.Fatalf("without replacement, batch %v repeats a path", got)
		}
		for _, i := range got {
			count[i]++
		}
	}
	// 2000 batches of 2 per epoch of 10: 1000 epochs, each path in 800 batches.
	if s.Epoch() != 999 {
		t.Errorf("epoch %d", s.Epoch())
	}
	for i, c := range count {
		if c < 700 || c > 900 {
			t.Errorf("path %d drawn %d times of 800 expected", i, c)
		}
	}

	r, err := NewSampler(p, 25, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	first := slices.Clone(r.NextIndices())
	if len(slices.Compact(slices.Sorted(slices.Values(first)))) == 25 {
		t.Error("25 draws with replacement from 10 had no repeat")
	}
	r2, _ := NewSampler(p, 25, true, 1)
	if !slices.Equal(first, r2.NextIndices()) || r.Size() != 25 {
		t.Error("sampler is not deterministic")
	}

	for _, tc := range []struct {
		size    int
		replace bool
		p       *Paths
		error   string
	}{
		{0, true, p, "batch size 0"},
		{11, false, p, "without replacement from 10"},
		{1, true, numbered(0), "no paths"},
	} {
		if _, err := NewSampler(tc.p, tc.size, tc.replace, 1); err == nil || !strings.Contains(err.Error(), tc.error) {
			t.Errorf("NewSampler(%d, %v): %v, want %q", tc.size, tc.replace, err, tc.error)
		}
	}
}

func TestMinibatchIndices(t *testing.T) {
	// Pinned draws: a change here changes every training run's batches (and breaks
	// resuming from older checkpoints bit-identically).
	for _, c := range []struct {
		n, size int
		seed    uint64
		want    []int
	}{
		{10, 4, 42, []int{8, 9, 1, 3}},
		{3, 5, 42, []int{2, 2, 0, 0, 0}}, // fewer paths than the batch: with replacement
		{1000, 6, 0x0123456789abcdef, []int{932, 106, 271, 537, 832, 25}},
	} {
		if got := MinibatchIndices(nil, c.n, c.size, c.seed); !slices.Equal(got, c.want) {
			t.Errorf("MinibatchIndices(nil, %d, %d, %#x) = %v, want %v", c.n, c.size, c.seed, got, c.want)
		}
	}

	// Distinct and in range when n ≥ size, and the same for the same seed.
	for seed := range uint64(50) {
		idx := MinibatchIndices(nil, 12, 7, seed)
		seen := map[int]bool{}
		for _, i := range idx {
			if i < 0 || i >= 12 || seen[i] {
				t.Fatalf("seed %d: %v not distinct indices in [0, 12)", seed, idx)
			}
			seen[i] = true
		}
		if again := MinibatchIndices(nil, 12, 7, seed); !slices.Equal(idx, again) {
			t.Fatalf("seed %d: %v then %v", seed, idx, again)
		}
	}
	if idx := MinibatchIndices(nil, 5, 5, 3); !slices.Equal(slices.Sorted(slices.Values(idx)), []int{0, 1, 2, 3, 4}) {
		t.Errorf("a batch of every path is %v", idx)
	}

	// dst's storage is reused when large enough, whatever it held, and the draw does not
	// depend on it.
	buf := make([]int, 3, 20)
	for i := range buf[:cap(buf)] {
		buf[:cap(buf)][i] = -1
	}
	got := MinibatchIndices(buf, 10, 4, 42)
	if &got[0] != &buf[:1][0] || !slices.Equal(got, []int{8, 9, 1, 3}) {
		t.Errorf("with scratch: %v (reused %v)", got, &got[0] == &buf[:1][0])
	}
	small := make([]int, 2)
	if got := MinibatchIndices(small, 10, 4, 42); !slices.Equal(got, []int{8, 9, 1, 3}) {
		t.Errorf("with short scratch: %v", got)
	}
	if got := MinibatchIndices(nil, 4, 0, 1); len(got) != 0 {
		t.Errorf("empty batch: %v", got)
	}
}

// Windows cut from series of points 0…L−1 (value = point index, time = index), split
// by time.
func TestSplitBlocks(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		lengths              []int // points per series
		window, stride       int
		train, test, dropped int
		firstTest            []int // the first point of the first test window of each series
	}{
		// 31 windows (starts 0, 3, …, 90); round(0.8·31) = 25 before the boundary at the
		// 26th start, 75: test starts 75…90 (6), train ends before 75: starts 0…63 (22),
		// and 66, 69, 72 straddle it.
		{"overlapping", []int{100}, 10, 3, 22, 6, 3, []int{75}},
		// 10 windows without overlap: 8 and 2, nothing dropped.
		{"disjoint", []int{100}, 10, 10, 8, 2, 0, []int{80}},
		// Stride 1 over 20 points, window 5: 16 windows, 13 before the boundary at 13,
		// test starts 13…15 (3), train ends before 13: starts 0…8 (9), 4 dropped. The
		// second series: 5 windows (starts 0…4), the boundary at 4: one test window, and
		// the other four all reach point 4, so they are dropped.
		{"two series", []int{20, 9}, 5, 1, 9, 3 + 1, 4 + 4, []int{13, 4}},
		// 2 windows: round(1.6) = 2, all train.
		{"too few to hold out", []int{4}, 2, 2, 2, 0, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("id,t,a\n")
			for s, L := range tc.lengths {
				for i := range L {
					fmt.Fprintf(&b, "s%d,%d,%d\n", s, i, i)
				}
			}
			d, err := ReadCSVData(strings.NewReader(b.String()), CSVOptions{Window: tc.window, Stride: tc.stride})
			if err != nil {
				t.Fatal(err)
			}
			train, test, dropped, err := SplitBlocks(d.Paths, d.Origins, 0.8)
			if err != nil {
				t.Fatal(err)
			}
			if train.N != tc.train || test.N != tc.test || dropped != tc.dropped {
				t.Fatalf("%d train, %d test, %d dropped; want %d, %d, %d", train.N, test.N, dropped, tc.train, tc.test, tc.dropped)
			}
			// No test window shares a point of its series with a training window: the
			// values are the point indices, and the series are told apart by order (the
			// parts keep the original order, series by series).
			type span struct{ series, first, last int }
			spans := func(p *Paths) []span {
				var out []span
				s := 0
				for n := range p.N {
					first := int(p.At(n, 0, 0))
					if n > 0 && first < int(p.At(n-1, 0, 0)) {
						s++
					}
					out = append(out, span{s, first, int(p.At(n, p.T()-1, 0))})
				}
				return out
			}
			tr, te := spans(train), spans(test)
			for _, a := range tr {
				for _, b := range te {
					if a.series == b.series && a.last >= b.first {
						t.Errorf("training window %v overlaps test window %v", a, b)
					}
				}
			}
			var firsts []int
			for i, b := range te {
				if i == 0 || te[i-1].series != b.series {
					firsts = append(firsts, b.first)
				}
			}
			if !slices.Equal(firsts, tc.firstTest) {
				t.Errorf("test parts start at %v, want %v", firsts, tc.firstTest)
			}
		})
	}
	if _, _, _, err := SplitBlocks(numbered(3), make([]Origin, 2), 0.8); err == nil {
		t.Error("origins of the wrong length: no error")
	}
}
