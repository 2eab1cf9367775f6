package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// AirQualityChannels are the numeric columns of the Beijing multi-site air-quality
// files, any of which AirQualityOptions.Channels may name: particulate matter PM2.5 and
// PM10, SO2, NO2, CO, O3 (µg/m³), temperature TEMP (°C), pressure PRES (hPa), dew point
// DEWP (°C), precipitation RAIN (mm) and wind speed WSPM (m/s). (wd, the wind
// direction, is categorical and not offered.)
var AirQualityChannels = []string{"PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "RAIN", "WSPM"}

// AirQualityUnits are the units of AirQualityChannels, for axis labels.
var AirQualityUnits = map[string]string{"PM2.5": "µg/m³", "PM10": "µg/m³", "SO2": "µg/m³", "NO2": "µg/m³",
	"CO": "µg/m³", "O3": "µg/m³", "TEMP": "°C", "PRES": "hPa", "DEWP": "°C", "RAIN": "mm", "WSPM": "m/s"}

// DefaultAirQualityChannels are the channels AirQuality reads by default: two
// pollutants with opposite daily cycles, ozone, and the temperature that drives it.
var DefaultAirQualityChannels = []string{"PM2.5", "NO2", "O3", "TEMP"}

// AirQualitySplit says how AirQuality divides windows between train and test.
type AirQualitySplit int

const (
	// SplitByStation (the default) puts every window of the test stations in the test
	// set and every window of the others in the train set: the test set is places the
	// model never saw.
	SplitByStation AirQualitySplit = iota
	// SplitByTime puts the windows of the first TrainFraction of the record (all
	// stations) in the train set and the later ones in the test set: the test set is a
	// future the model never saw.
	SplitByTime
)

// AirQualityEnv is the environment variable DefaultAirQualityDir consults first.
const AirQualityEnv = "GOSDE_AIR_QUALITY"

// AirQualityOptions configures AirQuality; the zero value gives the documented
// defaults.
type AirQualityOptions struct {
	// Channels names the columns to read, from AirQualityChannels (case-insensitive).
	// Default DefaultAirQualityChannels: PM2.5, NO2, O3, TEMP.
	Channels []string
	// Window is the length of a window in hours. Default 24: one calendar day, since
	// the record starts at 00:00.
	Window int
	// Stride is the number of hours between the starts of consecutive windows.
	// Default Window: non-overlapping windows.
	Stride int
	// Split is SplitByStation (default) or SplitByTime.
	Split AirQualitySplit
	// TestStations are the test stations of SplitByStation (case-insensitive). Default:
	// the last 3 stations in alphabetical order (of the 12: Tiantan, Wanliu,
	// Wanshouxigong).
	TestStations []string
	// TrainFraction is the share of the record, from its start, that SplitByTime puts
	// in the train set, rounded down to a whole number of windows. Default 0.8. With
	// overlapping windows (Stride < Window), a window straddling the cut is dropped.
	TrainFraction float64
	// Stations, if set, restricts the data to these stations (case-insensitive).
	// Default: all stations found.
	Stations []string
}

// AirQuality reads the Beijing multi-site air-quality data (UCI data set 501: hourly
// readings at 12 stations, 2013-03-01 00:00 to 2017-02-28 23:00) from the
// PRSA_Data_<station>_<dates>.csv files in dir and cuts them into windows.
//
// Defaults (see AirQualityOptions): channels PM2.5, NO2, O3, TEMP in the data's own
// units; windows of 24 hours, non-overlapping, starting at the first hour of the record
// (so calendar days); split by station, the last 3 stations alphabetically (Tiantan,
// Wanliu, Wanshouxigong) being the test set.
//
// Each window is one path with Times 0, 1, …, Window−1 (hours into the window).
// Missing readings (NA, or an hour with no row) stay NaN: the caller interpolates
// (FillLinear) and normalises (Fit on train, Apply to both). A window is dropped only
// if one of its channels has no reading at all in it. Paths are ordered by station
// (alphabetically), then by time. It is an error if either part comes out empty.
func AirQuality(dir string, opt AirQualityOptions) (train, test *Paths, err error) {
	set, err := airQualitySettings(opt)
	if err != nil {
		return nil, nil, err
	}
	files, stations, err := stationFiles(dir, opt.Stations)
	if err != nil {
		return nil, nil, err
	}
	isTest, err := testStations(stations, opt)
	if err != nil {
		return nil, nil, err
	}
	recs, err := readStations(files, set.channels)
	if err != nil {
		return nil, nil, err
	}
	return set.windows(recs, isTest)
}

// airQuality is AirQualityOptions checked, with the defaults filled in.
type airQuality struct {
	channels []string // canonical names, from AirQualityChannels
	W        int      // window length, hours
	stride   int      // hours between window starts
	split    AirQualitySplit
	frac     float64 // SplitByTime's train fraction
}

// airQualitySettings checks opt and fills in its defaults.
func airQualitySettings(opt AirQualityOptions) (airQuality, error) {
	channels := opt.Channels
	if channels == nil {
		channels = DefaultAirQualityChannels
	}
	if len(channels) == 0 {
		return airQuality{}, errors.New("dataset: air quality: no channels")
	}
	canon := make([]string, len(channels))
	for i, name := range channels {
		j := slices.IndexFunc(AirQualityChannels, func(c string) bool { return strings.EqualFold(c, name) })
		if j < 0 {
			return airQuality{}, fmt.Errorf("dataset: air quality: unknown channel %q; valid channels are %s", name, strings.Join(AirQualityChannels, ", "))
		}
		if slices.Contains(canon[:i], AirQualityChannels[j]) {
			return airQuality{}, fmt.Errorf("dataset: air quality: channel %q named twice", name)
		}
		canon[i] = AirQualityChannels[j]
	}
	W := opt.Window
	if W == 0 {
		W = 24
	}
	if W < 1 {
		return airQuality{}, fmt.Errorf("dataset: air quality: window of %d hours", W)
	}
	stride := opt.Stride
	if stride == 0 {
		stride = W
	}
	if stride < 1 {
		return airQuality{}, fmt.Errorf("dataset: air quality: stride of %d hours", stride)
	}
	frac := opt.TrainFraction
	if frac == 0 {
		frac = 0.8
	}
	if !(frac > 0 && frac < 1) {
		return airQuality{}, fmt.Errorf("dataset: air quality: train fraction %v not in (0, 1)", frac)
	}
	if opt.Split != SplitByStation && opt.Split != SplitByTime {
		return airQuality{}, fmt.Errorf("dataset: air quality: unknown split %d", opt.Split)
	}
	return airQuality{channels: canon, W: W, stride: stride, split: opt.Split, frac: frac}, nil
}

// stationOf is the station named by a PRSA_Data_<station>_<dates>.csv file.
func stationOf(f string) string {
	s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "PRSA_Data_"), ".csv")
	if i := strings.IndexByte(s, '_'); i >= 0 {
		s = s[:i]
	}
	return s
}

// findStation is the index in stations of the station name (case-insensitive), or −1.
func findStation(stations []string, name string) int {
	return slices.IndexFunc(stations, func(s string) bool { return strings.EqualFold(s, name) })
}

// stationFiles lists the station files in dir and their stations, sorted by station;
// only, if not nil, keeps those stations.
func stationFiles(dir string, only []string) (files, stations []string, err error) {
	files, err = filepath.Glob(filepath.Join(dir, "PRSA_Data_*.csv"))
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: air quality: %w", err)
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("dataset: air quality: no PRSA_Data_*.csv file in %s", dir)
	}
	slices.SortFunc(files, func(a, b string) int { return strings.Compare(stationOf(a), stationOf(b)) })
	for i, f := range files {
		s := stationOf(f)
		if i > 0 && s == stations[i-1] {
			return nil, nil, fmt.Errorf("dataset: air quality: two files for station %s in %s", s, dir)
		}
		stations = append(stations, s)
	}
	if only == nil {
		return files, stations, nil
	}
	var keepFiles, keep []string
	for _, name := range only {
		i := findStation(stations, name)
		if i < 0 {
			return nil, nil, fmt.Errorf("dataset: air quality: unknown station %q; stations in %s are %s", name, dir, strings.Join(stations, ", "))
		}
		if !slices.Contains(keep, stations[i]) {
			keep = append(keep, stations[i])
			keepFiles = append(keepFiles, files[i])
		}
	}
	slices.SortFunc(keepFiles, func(a, b string) int { return strings.Compare(stationOf(a), stationOf(b)) })
	slices.Sort(keep)
	return keepFiles, keep, nil
}

// testStations marks the test stations of SplitByStation (none for SplitByTime).
func testStations(stations []string, opt AirQualityOptions) ([]bool, error) {
	isTest := make([]bool, len(stations))
	if opt.Split != SplitByStation {
		return isTest, nil
	}
	if opt.TestStations == nil {
		for i := max(len(stations)-3, 0); i < len(stations); i++ {
			isTest[i] = true
		}
	}
	for _, name := range opt.TestStations {
		i := findStation(stations, name)
		if i < 0 {
			return nil, fmt.Errorf("dataset: air quality: unknown test station %q; stations are %s", name, strings.Join(stations, ", "))
		}
		isTest[i] = true
	}
	return isTest, nil
}

// readStations parses the station files concurrently.
func readStations(files, channels []string) ([]*stationRecord, error) {
	recs := make([]*stationRecord, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			recs[i], errs[i] = readStation(f, channels)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return recs, nil
}

// windows cuts the stations' records into windows on their common hour grid, station by
// station, and deals them to train and test.
func (a airQuality) windows(recs []*stationRecord, isTest []bool) (train, test *Paths, err error) {
	W := a.W
	start, end := recs[0].start, recs[0].start+recs[0].hours
	for _, r := range recs[1:] {
		start, end = min(start, r.start), max(end, r.start+r.hours)
	}
	if W > end-start {
		return nil, nil, fmt.Errorf("dataset: air quality: a window of %d hours is longer than the record (%d hours)", W, end-start)
	}
	cut := math.MaxInt // SplitByTime: train windows end by start+cut, test ones begin there
	if a.split == SplitByTime {
		cut = int(a.frac*float64(end-start)/float64(W)) * W
	}
	part := func(si, ws int) int { // 0 train, 1 test, −1 straddles the cut
		switch {
		case a.split == SplitByStation && isTest[si]:
			return 1
		case a.split == SplitByTime && ws-start >= cut:
			return 1
		case a.split == SplitByTime && ws-start+W > cut:
			return -1
		}
		return 0
	}
	// Capacity: the windows before any is dropped for missing a channel.
	capTrain, capTest := 0, 0
	for si := range recs {
		for ws := start; ws+W <= end; ws += a.stride {
			switch part(si, ws) {
			case 0:
				capTrain++
			case 1:
				capTest++
			}
		}
	}
	C := len(a.channels)
	times := make([]float64, W)
	for t := range times {
		times[t] = float64(t)
	}
	train = &Paths{Times: times, Channels: a.channels, Values: make([]float64, 0, capTrain*W*C)}
	test = &Paths{Times: slices.Clone(times), Channels: slices.Clone(a.channels), Values: make([]float64, 0, capTest*W*C)}
	window := make([]float64, W*C)
	for si, r := range recs {
		for ws := start; ws+W <= end; ws += a.stride {
			dst := train
			switch part(si, ws) {
			case 1:
				dst = test
			case -1:
				continue
			}
			if !r.window(ws, W, window) {
				continue
			}
			dst.Values = append(dst.Values, window...)
			dst.N++
		}
	}
	if train.N == 0 || test.N == 0 {
		return nil, nil, fmt.Errorf("dataset: air quality: the split leaves %d train and %d test windows", train.N, test.N)
	}
	return train, test, nil
}

// stationRecord is one station's readings on an hour grid: values[h*C+c] is hour
// start+h (hours since 1970-01-01 00:00, Beijing time), NaN if missing.
type stationRecord struct {
	start, hours int
	C            int
	values       []float64
}

// window copies hours [ws, ws+W) into dst (NaN outside the record) and reports
// whether every channel has a reading in it.
func (r *stationRecord) window(ws, W int, dst []float64) bool {
	C := r.C
	for i := range dst {
		dst[i] = math.NaN()
	}
	lo, hi := max(ws, r.start), min(ws+W, r.start+r.hours)
	if lo < hi {
		copy(dst[(lo-ws)*C:(hi-ws)*C], r.values[(lo-r.start)*C:(hi-r.start)*C])
	}
	for c := 0; c < C; c++ {
		ok := false
		for t := 0; t < W; t++ {
			if !math.IsNaN(dst[t*C+c]) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// maxRecordHours bounds a station's span (about 480 years) against corrupt dates.
const maxRecordHours = 1 << 22

// readStation parses one PRSA_Data file: comma-separated, a header row, fields
// optionally double-quoted (no quoted commas or newlines in these files), NA missing.
func readStation(path string, channels []string) (*stationRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: air quality: %w", err)
	}
	name := filepath.Base(path)
	fail := func(line int, format string, a ...any) error {
		return fmt.Errorf("dataset: air quality: %s:%d: %s", name, line, fmt.Sprintf(format, a...))
	}
	var fields [][]byte
	nextLine := func() []byte {
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		return bytes.TrimSuffix(l, []byte{'\r'})
	}
	header := nextLine()
	header = bytes.TrimPrefix(header, []byte("\ufeff"))
	if fields, err = splitFields(header, fields[:0]); err != nil {
		return nil, fail(1, "%v", err)
	}
	col := func(name string) int {
		return slices.IndexFunc(fields, func(f []byte) bool { return string(f) == name })
	}
	nf := len(fields)
	iy, im, id, ih := col("year"), col("month"), col("day"), col("hour")
	if iy < 0 || im < 0 || id < 0 || ih < 0 {
		return nil, fail(1, "header lacks year, month, day or hour")
	}
	C := len(channels)
	ic := make([]int, C)
	for c, ch := range channels {
		if ic[c] = col(ch); ic[c] < 0 {
			return nil, fail(1, "header lacks column %s", ch)
		}
	}

	rows := bytes.Count(data, []byte{'\n'}) + 1
	hours, lines := make([]int, 0, rows), make([]int, 0, rows)
	vals := make([]float64, 0, rows*C)
	for line := 2; len(data) > 0; line++ {
		l := nextLine()
		if len(l) == 0 {
			continue
		}
		if fields, err = splitFields(l, fields[:0]); err != nil {
			return nil, fail(line, "%v", err)
		}
		if len(fields) != nf {
			return nil, fail(line, "%d fields, header has %d", len(fields), nf)
		}
		var ymdh [4]int
		for k, i := range [4]int{iy, im, id, ih} {
			v, ok := parseUint(fields[i])
			if !ok {
				return nil, fail(line, "bad date/hour field %q", fields[i])
			}
			ymdh[k] = v
		}
		y, m, d, h := ymdh[0], ymdh[1], ymdh[2], ymdh[3]
		if m < 1 || m > 12 || d < 1 || d > 31 || h < 0 || h > 23 || y < 1900 || y > 2400 {
			return nil, fail(line, "bad date %d-%d-%d hour %d", y, m, d, h)
		}
		hours = append(hours, daysFromCivil(y, m, d)*24+h)
		lines = append(lines, line)
		for _, i := range ic {
			f := fields[i]
			if string(f) == "NA" || len(f) == 0 {
				vals = append(vals, math.NaN())
				continue
			}
			v, ok := parseDecimal(f)
			if !ok {
				return nil, fail(line, "non-numeric reading %q", f)
			}
			vals = append(vals, v)
		}
	}
	if len(hours) == 0 {
		return nil, fail(1, "no data rows")
	}
	lo, hi := slices.Min(hours), slices.Max(hours)
	if hi-lo >= maxRecordHours {
		return nil, fail(1, "record spans %d hours", hi-lo+1)
	}
	r := &stationRecord{start: lo, hours: hi - lo + 1, C: C, values: make([]float64, (hi-lo+1)*C)}
	filled := make([]bool, r.hours)
	for k, h := range hours {
		if filled[h-lo] {
			return nil, fail(lines[k], "a second row for the same hour")
		}
		filled[h-lo] = true
	}
	for h := range filled {
		if !filled[h] {
			for c := 0; c < C; c++ {
				r.values[h*C+c] = math.NaN()
			}
		}
	}
	for k, h := range hours {
		copy(r.values[(h-lo)*C:(h-lo+1)*C], vals[k*C:(k+1)*C])
	}
	return r, nil
}

// splitFields splits a CSV line at commas, removing the quotes of a quoted field
// (quoted commas are kept; a doubled quote inside is left as is).
func splitFields(l []byte, fields [][]byte) ([][]byte, error) {
	for {
		if len(l) > 0 && l[0] == '"' {
			j := bytes.IndexByte(l[1:], '"')
			if j < 0 {
				return nil, errors.New("unterminated quote")
			}
			fields = append(fields, l[1:1+j])
			l = l[j+2:]
			if len(l) == 0 {
				return fields, nil
			}
			if l[0] != ',' {
				return nil, errors.New("text after a closing quote")
			}
			l = l[1:]
			continue
		}
		i := bytes.IndexByte(l, ',')
		if i < 0 {
			return append(fields, l), nil
		}
		fields = append(fields, l[:i])
		l = l[i+1:]
	}
}

// parseUint parses a small unsigned decimal integer.
func parseUint(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	v := 0
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		v = v*10 + int(ch-'0')
	}
	return v, true
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseDecimal parses [+-]digits[.digits] exactly as strconv.ParseFloat does: with at
// most 15 significant digits the mantissa and the power of ten are exact doubles and
// one division rounds correctly. Anything else goes to strconv.ParseFloat.
func parseDecimal(b []byte) (float64, bool) {
	s := b
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var mant uint64
	digits, frac := 0, -1
	for _, ch := range s {
		switch {
		case ch >= '0' && ch <= '9':
			mant = mant*10 + uint64(ch-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case ch == '.' && frac < 0:
			frac = 0
		default:
			return slowFloat(b)
		}
	}
	if digits == 0 || digits > 15 {
		return slowFloat(b)
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}

func slowFloat(b []byte) (float64, bool) {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (proleptic Gregorian).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400 // y ≥ 0 here
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// DefaultAirQualityDir finds the air-quality data: the directory named by
// $GOSDE_AIR_QUALITY if set, else the first of ../shared/data/beijing_air_quality and
// shared/data/beijing_air_quality, relative to the working directory and then to the
// module root (the nearest directory above it holding go.mod), that holds
// PRSA_Data_*.csv files.
func DefaultAirQualityDir() (string, error) {
	has := func(dir string) bool {
		m, _ := filepath.Glob(filepath.Join(dir, "PRSA_Data_*.csv"))
		return len(m) > 0
	}
	if dir := os.Getenv(AirQualityEnv); dir != "" {
		if has(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("dataset: $%s=%s holds no PRSA_Data_*.csv file", AirQualityEnv, dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	bases := []string{wd}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if d != wd {
				bases = append(bases, d)
			}
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	var tried []string
	for _, b := range bases {
		for _, rel := range []string{"../shared/data/beijing_air_quality", "shared/data/beijing_air_quality"} {
			dir := filepath.Join(b, rel)
			if has(dir) {
				return dir, nil
			}
			tried = append(tried, dir)
		}
	}
	return "", fmt.Errorf("dataset: air-quality data not found (set $%s); tried %s", AirQualityEnv, strings.Join(tried, ", "))
}
