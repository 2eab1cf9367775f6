// Package enumjson reads the small integer enumerations of gosde's configurations
// (solver methods and adjoints, activations) from JSON, where they are written by
// name; configurations saved before that wrote their numbers, which still read.
package enumjson

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// Decode returns the index in names of the JSON string b, or the number b when it is
// one and indexes names; kind names the enumeration in errors.
func Decode(b []byte, kind string, names []string) (int, error) {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if i := slices.Index(names, s); i >= 0 {
			return i, nil
		}
		return 0, fmt.Errorf("unknown %s %q: one of %q", kind, s, names)
	}
	i, err := strconv.Atoi(string(b))
	if err != nil || i < 0 || i >= len(names) {
		return 0, fmt.Errorf("%s %s is neither one of %q nor their number", kind, b, names)
	}
	return i, nil
}
