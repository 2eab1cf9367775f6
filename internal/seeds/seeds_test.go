package seeds

import "testing"

// The values are pinned: checkpoints and documented results depend on them, so a change
// here must be deliberate.
func TestDerivePinned(t *testing.T) {
	for _, c := range []struct{ seed, stream, k, want uint64 }{
		{1, 1, 0, 0xf3c82270ad6f5bb9},
		{7, 9, 123, 0x14c331ef87a31c80},
		{0, 0, 0, 0xbe8446e821fe745a},
	} {
		if got := Derive(c.seed, c.stream, c.k); got != c.want {
			t.Fatalf("Derive(%d, %d, %d) = %#x, want %#x", c.seed, c.stream, c.k, got, c.want)
		}
	}
	seen := map[uint64]bool{}
	for seed := range uint64(4) {
		for stream := range uint64(8) {
			for k := range uint64(64) {
				v := Derive(seed, stream, k)
				if seen[v] {
					t.Fatalf("Derive(%d, %d, %d) repeats an earlier seed", seed, stream, k)
				}
				seen[v] = true
			}
		}
	}
}
