package paramset

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// fixture is a Set over two arrays of one storage vector (a 2×3 weight and a bias of 2)
// and an average vector, like a model's parameters and their weight average.
func fixture() (s *Set, params, avg []float32) {
	params = []float32{1, 2, 3, 4, 5, 6, 7, 8}
	avg = []float32{-1, -2, -3, -4, -5, -6, -7, -8}
	s = new(Set)
	s.Add("w", []int{2, 3}, params[:6])
	s.Add("b", []int{2}, params[6:])
	s.Add("swa.w", []int{2, 3}, avg[:6])
	s.Add("swa.b", []int{2}, avg[6:])
	return s, params, avg
}

func TestNamesShapesParams(t *testing.T) {
	s, params, _ := fixture()
	want := []string{"w", "b", "swa.w", "swa.b", KeyStep, KeyUpdates, KeySWAN}
	if got := s.Names(); !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	shapes := s.Shapes()
	if len(shapes) != len(want) || !slices.Equal(shapes["w"], []int{2, 3}) || !slices.Equal(shapes[KeySWAN], []int{2}) {
		t.Errorf("Shapes = %v", shapes)
	}
	shapes["w"][0] = 99 // a copy
	if s.Shapes()["w"][0] != 2 {
		t.Error("Shapes returned the Set's own slice")
	}
	p := s.Params(Counters{Step: 7, Updates: 5, SWAN: 2})
	if !slices.Equal(p["w"], params[:6]) || !slices.Equal(p["b"], params[6:]) || p["swa.b"][1] != -8 {
		t.Errorf("Params = %v", p)
	}
	if !slices.Equal(p[KeyStep], []float32{0, 7}) || !slices.Equal(p[KeyUpdates], []float32{0, 5}) || !slices.Equal(p[KeySWAN], []float32{0, 2}) || len(p) != len(want) {
		t.Errorf("Params counters = %v", p)
	}
	p["w"][0] = 99 // a copy
	if params[0] != 1 {
		t.Error("Params returned a view, not a copy")
	}
}

func TestSetParams(t *testing.T) {
	s, params, avg := fixture()
	c := Counters{Step: 1 << 24, Updates: 12, SWAN: 3}
	src, _, _ := fixture()
	p := src.Params(c)
	for k, v := range p {
		if !strings.HasPrefix(k, "state.") {
			for i := range v {
				v[i] += 10
			}
		}
	}
	got, err := s.SetParams(p)
	if err != nil || got != c {
		t.Fatalf("SetParams = %v, %v; want %v", got, err, c)
	}
	if params[0] != 11 || params[7] != 18 || avg[0] != 9 {
		t.Errorf("storage after SetParams: %v, %v", params, avg)
	}
	again := s.Params(got)
	if !maps.EqualFunc(again, p, slices.Equal) {
		t.Errorf("round trip: %v, want %v", again, p)
	}
}

func TestSetParamsRejects(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(p map[string][]float32)
		err    string
	}{
		{"missing", func(p map[string][]float32) { delete(p, "b"); delete(p, KeySWAN) }, "missing b, state.swa_n"},
		{"length", func(p map[string][]float32) { p["swa.w"] = p["swa.w"][:5] }, "swa.w has 5 values, want 6"},
		{"unknown", func(p map[string][]float32) { p["z"], p["a"] = nil, nil }, "unknown a, z"},
		{"negative", func(p map[string][]float32) { p[KeyStep] = []float32{0, -1} }, "state.step = [0 -1] is not a counter"},
		{"fraction", func(p map[string][]float32) { p[KeyUpdates] = []float32{0, 2.5} }, "state.updates = [0 2.5] is not a counter"},
		{"digit too large", func(p map[string][]float32) { p[KeyStep] = []float32{0, 1 << 24} }, "is not a counter"},
		{"high digit too large", func(p map[string][]float32) { p[KeyStep] = []float32{1 << 24, 0} }, "is not a counter"},
		{"empty counter", func(p map[string][]float32) { p[KeyStep] = nil }, "state.step has 0 values, want 2"},
		{"one-digit counter", func(p map[string][]float32) { p[KeyStep] = []float32{7} }, "state.step has 1 values, want 2"},
		{"updates > step", func(p map[string][]float32) { p[KeyUpdates] = []float32{0, 8} }, "inconsistent counters step 7, updates 8, swa_n 2"},
		{"updates > step, high digit", func(p map[string][]float32) { p[KeyUpdates] = []float32{1, 0} }, "inconsistent counters step 7, updates 16777216, swa_n 2"},
		{"swa_n > updates", func(p map[string][]float32) { p[KeySWAN] = []float32{0, 6} }, "inconsistent counters"},
	} {
		s, params, avg := fixture()
		before := slices.Concat(params, avg)
		src, _, _ := fixture()
		p := src.Params(Counters{Step: 7, Updates: 5, SWAN: 2})
		for _, v := range p {
			for i := range v {
				v[i] += 100
			}
		}
		p[KeyStep], p[KeyUpdates], p[KeySWAN] = EncodeCounter(7), EncodeCounter(5), EncodeCounter(2)
		c.change(p)
		got, err := s.SetParams(p)
		if err == nil || !strings.Contains(err.Error(), c.err) || got != (Counters{}) {
			t.Errorf("%s: SetParams = %v, %v; want error %q", c.name, got, err, c.err)
		}
		if after := slices.Concat(params, avg); !slices.Equal(before, after) {
			t.Errorf("%s: rejected SetParams changed the storage: %v", c.name, after)
		}
	}
}

func TestAddChecksLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Add accepted a view of the wrong length")
		}
	}()
	var s Set
	s.Add("w", []int{2, 3}, make([]float32, 5))
}

func TestEmptySet(t *testing.T) {
	var s Set
	if got := s.Names(); !slices.Equal(got, []string{KeyStep, KeyUpdates, KeySWAN}) {
		t.Errorf("Names = %v", got)
	}
	c, err := s.SetParams(s.Params(Counters{Step: 3, Updates: 2, SWAN: 1}))
	if err != nil || c != (Counters{3, 2, 1}) {
		t.Errorf("SetParams = %v, %v", c, err)
	}
}

// TestCountersAreExact: counters beyond float32's 2^24 whole numbers survive Params and
// SetParams exactly (a float32 step counter rounded 2^24+1 to 2^24, and refused more).
func TestCountersAreExact(t *testing.T) {
	for _, c := range []Counters{
		{Step: 1<<24 + 1, Updates: 1<<24 + 1, SWAN: 1 << 24},
		{Step: 1<<40 + 12345, Updates: 1<<31 + 7, SWAN: 3},
		{Step: MaxCounter, Updates: MaxCounter, SWAN: MaxCounter},
	} {
		var s Set
		got, err := s.SetParams(s.Params(c))
		if err != nil || got != c {
			t.Errorf("%+v: SetParams(Params) = %+v, %v", c, got, err)
		}
	}
	for _, n := range []int{0, 1, 1<<24 - 1, 1 << 24, 1<<24 + 1, 3<<30 + 5, MaxCounter} {
		v := EncodeCounter(n)
		if got, ok := DecodeCounter(v); !ok || got != n {
			t.Errorf("DecodeCounter(EncodeCounter(%d) = %v) = %d, %v", n, v, got, ok)
		}
		if float64(v[0])*(1<<24)+float64(v[1]) != float64(n) {
			t.Errorf("EncodeCounter(%d) = %v: the digits do not make it", n, v)
		}
	}
}
