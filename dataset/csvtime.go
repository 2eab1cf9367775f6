package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Named time formats of ParseTimeFormat.
const (
	timeAuto   = ""
	timeNumber = "number"
)

// isoLayouts are the layouts "auto" recognises, tried in this order on the first row.
// time.Parse accepts a fractional second after the seconds of any of them.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// strftime maps the directives ParseTimeFormat accepts to Go's layout elements.
var strftime = map[byte]string{
	'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'H': "15", 'I': "03", 'M': "04", 'S': "05",
	'p': "PM", 'b': "Jan", 'B': "January", 'j': "002", 'z': "-0700", 'Z': "MST",
}

// ParseTimeFormat checks a time format (gosde train's --time-format) and returns what
// the reader uses: "" for auto (numbers, or an ISO date or datetime recognised from
// the first row: 2006-01-02, 2006-01-02 15:04:05, the same with a T, or RFC 3339),
// "number", or a Go time layout. It accepts auto, number, date (2006-01-02), datetime
// (2006-01-02 15:04:05), rfc3339, or a strftime pattern such as %d/%m/%Y or
// "%Y-%m-%d %H:%M" (directives %Y %y %m %d %H %I %M %S %p %b %B %j %z %Z; separators
// among space - / : . , T _). Times without a zone are UTC.
func ParseTimeFormat(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return timeAuto, nil
	case "number":
		return timeNumber, nil
	case "date":
		return "2006-01-02", nil
	case "datetime":
		return "2006-01-02 15:04:05", nil
	case "rfc3339":
		return time.RFC3339Nano, nil
	}
	if !strings.Contains(s, "%") {
		return "", fmt.Errorf("dataset: csv: --time-format %q: use auto, number, date, datetime, rfc3339 or a pattern such as %%d/%%m/%%Y", s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+1 == len(s) {
				return "", fmt.Errorf("dataset: csv: --time-format %q ends in a lone %%", s)
			}
			i++
			el, ok := strftime[s[i]]
			if !ok {
				return "", fmt.Errorf("dataset: csv: --time-format %q: %%%c is not a directive gosde reads (%%Y %%y %%m %%d %%H %%I %%M %%S %%p %%b %%B %%j %%z %%Z)", s, s[i])
			}
			b.WriteString(el)
			continue
		}
		// Other characters would be taken for Go layout elements (a digit, "Mon", …).
		if !strings.ContainsRune(" -/:.,T_", rune(c)) {
			return "", fmt.Errorf("dataset: csv: --time-format %q: %q may not stand between directives (use space - / : . , T _)", s, c)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// isISODate reports whether s is a date or datetime auto-detection would read.
func isISODate(s string) bool {
	_, ok := isoLayout(s)
	return ok
}

// isoLayout is the first of isoLayouts that reads s.
func isoLayout(s string) (string, bool) {
	for _, l := range isoLayouts {
		if _, err := time.Parse(l, s); err == nil {
			return l, true
		}
	}
	return "", false
}

// timeParser reads a file's time cells: numbers, or dates in one layout (fixed by the
// format, or detected on the first row), which it keeps as seconds from the first
// date seen until toDays converts them.
type timeParser struct {
	format  string // as ParseTimeFormat returns it
	decided bool
	layout  string // "" for numbers
	dates   bool
	ref     int64     // Unix seconds of the first date
	min     time.Time // the earliest date
	days    bool      // toDays has run
	minSec  float64   // the earliest date in seconds from ref
}

func (tp *timeParser) parse(cell string) (float64, error) {
	s := strings.TrimSpace(cell)
	if isMissing(s) {
		return 0, fmt.Errorf("time %s is missing", quote(s))
	}
	if !tp.decided {
		tp.decided = true
		switch tp.format {
		case timeNumber:
		case timeAuto:
			if isNumber(s) {
				break
			}
			tp.layout, _ = isoLayout(s)
			if tp.layout == "" {
				return 0, fmt.Errorf("time %s is neither a number nor an ISO date or datetime (2006-01-02, 2006-01-02 15:04:05, RFC 3339); give its layout with --time-format, e.g. --time-format %%d/%%m/%%Y", quote(s))
			}
		default:
			tp.layout = tp.format
		}
	}
	if tp.layout == "" {
		v, err := parseNumber(s)
		switch {
		case err == errNotNumber && tp.format == timeNumber:
			return 0, fmt.Errorf("time %s is not a number (--time-format number)", quote(s))
		case err == errNotNumber:
			return 0, fmt.Errorf("time %s is not a number, as the first row's is", quote(s))
		case err != nil:
			return 0, fmt.Errorf("time %s is %w", quote(s), err)
		}
		return v, nil
	}
	t, err := time.Parse(tp.layout, s)
	if err != nil {
		if tp.format == timeAuto {
			return 0, fmt.Errorf("time %s is not a date in the layout %s of the first row; give the layout with --time-format", quote(s), tp.layout)
		}
		return 0, fmt.Errorf("time %s does not match --time-format (Go layout %s)", quote(s), tp.layout)
	}
	if !tp.dates {
		tp.dates, tp.ref, tp.min = true, t.Unix(), t
	}
	if t.Before(tp.min) {
		tp.min = t
	}
	return float64(t.Unix()-tp.ref) + float64(t.Nanosecond())/1e9, nil
}

// toDays turns the dates' seconds into days since the earliest.
func (tp *timeParser) toDays(series []csvSeries) {
	if !tp.dates {
		return
	}
	m := float64(tp.min.Unix()-tp.ref) + float64(tp.min.Nanosecond())/1e9
	tp.days, tp.minSec = true, m
	done := map[*float64]bool{} // wide format's series share one slice of times
	for _, s := range series {
		if len(s.times) == 0 || done[&s.times[0]] {
			continue
		}
		done[&s.times[0]] = true
		for j, t := range s.times {
			s.times[j] = (t - m) / 86400
		}
	}
}

// earliest is the earliest date, as the file's layout writes it.
func (tp *timeParser) earliest() string {
	return tp.min.Format(tp.layout)
}

// show writes a time for a message as the file does: a number, or a date in the
// file's layout (in UTC).
func (tp *timeParser) show(t float64) string {
	if !tp.dates {
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	if tp.days {
		t = t*86400 + tp.minSec
	}
	sec := math.Floor(t)
	return time.Unix(tp.ref+int64(sec), int64(math.Round((t-sec)*1e9))).UTC().Format(tp.layout)
}
