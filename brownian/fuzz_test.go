package brownian

import (
	"math"
	"slices"
	"testing"
)

// FuzzIntervalQueries decodes a configuration and a sequence of queries from bytes and
// checks that bad queries are errors (never panics), that good ones add up
// (W(s,u) + W(u,t) = W(s,t) to rounding, Lévy area merging likewise) and that every
// answer replays bit-identically at the end, in reverse order.
func FuzzIntervalQueries(f *testing.F) {
	f.Add([]byte{0, 0, 255, 10, 20, 128})
	f.Add([]byte{1, 3, 100, 50, 60, 200, 0, 255, 255, 0})
	f.Add([]byte{6, 1, 254, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte{5, 251, 252, 253, 3, 9, 250, 249, 0, 0, 40, 40})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 {
			return
		}
		cfg := data[0]
		data = data[1:]
		levy := cfg&1 != 0
		cache := 1 + int(cfg>>1&3)
		plan := cfg&8 != 0
		opts := []IntervalOption{WithCacheSize(cache)}
		if levy {
			opts = append(opts, WithLevyArea())
		}
		const t0, t1, batch, dim = -1.0, 2.0, 3, 2
		iv, err := NewInterval(t0, t1, batch, dim, uint64(cfg), opts...)
		if err != nil {
			t.Fatal(err)
		}
		if plan {
			if err := iv.Plan(gridOn(t0, t1, 17)); err != nil {
				t.Fatal(err)
			}
		}
		// time decodes a byte: most map onto [t0, t1] (a 240-point grid, so queries
		// often share ends); the rest are bad on purpose.
		time := func(b byte) float64 {
			switch b {
			case 255:
				return math.NaN()
			case 254:
				return math.Inf(1)
			case 253:
				return math.Inf(-1)
			case 252:
				return t0 - 0.5
			case 251:
				return t1 + 1e-9
			}
			return t0 + (t1-t0)*float64(min(b, 240))/240
		}
		type answer struct {
			s, t    float64
			w, area []float64
		}
		var answers []answer
		ask := func(s, u float64) ([]float64, []float64, error) {
			w := make([]float64, batch*dim)
			if !levy {
				return w, nil, iv.Increment(w, s, u)
			}
			a := make([]float64, batch*dim)
			return w, a, iv.IncrementArea(w, a, s, u)
		}
		for len(data) >= 3 {
			s, u, m := time(data[0]), time(data[1]), data[2]
			data = data[3:]
			w, a, err := ask(s, u)
			valid := !math.IsNaN(s) && !math.IsNaN(u) && s <= u && s >= t0 && u <= t1
			if valid != (err == nil) {
				t.Fatalf("query [%v, %v]: error %v, valid %v", s, u, err, valid)
			}
			if err != nil {
				continue
			}
			answers = append(answers, answer{s, u, w, a})
			// additivity at an interior point
			mid := s + (u-s)*float64(m)/255
			if !(s <= mid && mid <= u) {
				continue
			}
			w1, a1, err1 := ask(s, mid)
			w2, a2, err2 := ask(mid, u)
			if err1 != nil || err2 != nil {
				t.Fatalf("split of [%v, %v] at %v: %v, %v", s, u, mid, err1, err2)
			}
			answers = append(answers, answer{s, mid, slices.Clone(w1), slices.Clone(a1)}, answer{mid, u, w2, a2})
			if levy && s < mid && mid < u {
				mergeArea(w1, a1, w2, a2, mid-s, u-mid)
			} else {
				for i := range w1 {
					w1[i] += w2[i]
				}
			}
			for i := range w {
				if math.Abs(w1[i]-w[i]) > 1e-11 {
					t.Fatalf("[%v, %v] at %v: parts sum to %v, whole %v", s, u, mid, w1[i], w[i])
				}
				if levy && s < mid && mid < u && math.Abs(a1[i]-a[i]) > 1e-11 {
					t.Fatalf("[%v, %v] at %v: merged area %v, whole %v", s, u, mid, a1[i], a[i])
				}
			}
		}
		for i := len(answers) - 1; i >= 0; i-- {
			q := answers[i]
			w, a, err := ask(q.s, q.t)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(w, q.w) || !slices.Equal(a, q.area) {
				t.Fatalf("replay of [%v, %v]: got %v %v, first %v %v", q.s, q.t, w, a, q.w, q.area)
			}
		}
		if st := iv.Stats(); st.Cached > cache {
			t.Fatalf("cache holds %d, capacity %d", st.Cached, cache)
		}
	})
}
