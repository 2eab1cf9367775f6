package enumjson

import "testing"

func TestDecode(t *testing.T) {
	names := []string{"a", "b", "c"}
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{`"a"`, 0, true}, {`"c"`, 2, true}, {`2`, 2, true}, {`0`, 0, true},
		{`"d"`, 0, false}, {`3`, 0, false}, {`-1`, 0, false}, {`1.5`, 0, false}, {`null`, 0, false}, {`"A"`, 0, false},
	} {
		got, err := Decode([]byte(c.in), "thing", names)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("Decode(%s) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
