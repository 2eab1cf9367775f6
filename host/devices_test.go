package host

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// fakeGPU answers each attribute with its value or, when err names the attribute, an error.
type fakeGPU struct {
	name, uuid  string
	total, used uint64
	util, mutil int
	major, min  int
	fail        map[string]bool
}

var errUnsupported = errors.New("NVML: Not Supported")

func (g fakeGPU) err(attr string) error {
	if g.fail[attr] {
		return errUnsupported
	}
	return nil
}

func (g fakeGPU) Name() (string, error) { return g.name, g.err("name") }
func (g fakeGPU) UUID() (string, error) { return g.uuid, g.err("uuid") }
func (g fakeGPU) Memory() (uint64, uint64, error) {
	return g.total, g.used, g.err("memory")
}
func (g fakeGPU) Utilization() (int, int, error) { return g.util, g.mutil, g.err("utilization") }
func (g fakeGPU) ComputeCapability() (int, int, error) {
	return g.major, g.min, g.err("compute")
}

type fakeSystem struct {
	driver    string
	cuda      int
	gpus      []fakeGPU
	fail      map[string]bool // "driver", "cuda", "count", "device1", …
	panicAt   string
	shutdowns *int
}

func (s fakeSystem) check(what string) error {
	if s.panicAt == what {
		panic("boom in " + what)
	}
	if s.fail[what] {
		return fmt.Errorf("NVML: failure in %s", what)
	}
	return nil
}

func (s fakeSystem) DriverVersion() (string, error) { return s.driver, s.check("driver") }
func (s fakeSystem) CUDADriverVersion() (int, error) {
	return s.cuda, s.check("cuda")
}
func (s fakeSystem) DeviceCount() (int, error) { return len(s.gpus), s.check("count") }
func (s fakeSystem) Device(i int) (nvmlDevice, error) {
	if err := s.check(fmt.Sprintf("device%d", i)); err != nil {
		return nil, err
	}
	return s.gpus[i], nil
}
func (s fakeSystem) Shutdown() error {
	*s.shutdowns++
	return nil
}

const gib = 1 << 30

var h200 = fakeGPU{name: "NVIDIA H200", uuid: "GPU-aaaa", total: 141 * gib, used: gib / 2, util: 7, mutil: 3, major: 9, min: 0}
var a100 = fakeGPU{name: "NVIDIA A100-SXM4-80GB", uuid: "GPU-bbbb", total: 80 * gib, used: 40 * gib, util: 100, mutil: 55, major: 8, min: 0}

func want(g fakeGPU, i int) Device {
	return Device{Index: i, Name: g.name, UUID: g.uuid, MemoryTotal: g.total, MemoryUsed: g.used,
		UtilizationGPU: g.util, UtilizationMemory: g.mutil, ComputeMajor: g.major, ComputeMinor: g.min}
}

func TestDiscover(t *testing.T) {
	unknown := Device{Index: 1, UtilizationGPU: -1, UtilizationMemory: -1, ComputeMajor: -1, ComputeMinor: -1}
	noUtil := want(a100, 1)
	noUtil.UtilizationGPU, noUtil.UtilizationMemory = -1, -1
	lost := unknown
	lost.Error = "NVML: failure in device1"
	all := map[string]bool{"name": true, "uuid": true, "memory": true, "utilization": true, "compute": true}
	withFail := func(g fakeGPU, fail map[string]bool) fakeGPU { g.fail = fail; return g }

	cases := []struct {
		name     string
		sys      fakeSystem
		openErr  error
		panicOpn bool
		want     Inventory
		wantErr  string // substring; "" for none
		noDriver bool
	}{
		{name: "two devices", sys: fakeSystem{driver: "550.54.15", cuda: 12040, gpus: []fakeGPU{h200, a100}},
			want: Inventory{"550.54.15", "12.4", []Device{want(h200, 0), want(a100, 1)}}},
		{name: "no devices", sys: fakeSystem{driver: "550.54.15", cuda: 12040},
			want: Inventory{"550.54.15", "12.4", []Device{}}},
		{name: "utilisation not supported",
			sys:  fakeSystem{driver: "535.1", cuda: 12020, gpus: []fakeGPU{h200, withFail(a100, map[string]bool{"utilization": true})}},
			want: Inventory{"535.1", "12.2", []Device{want(h200, 0), noUtil}}},
		{name: "every attribute fails", sys: fakeSystem{driver: "535.1", cuda: 12020, gpus: []fakeGPU{h200, withFail(a100, all)}},
			want: Inventory{"535.1", "12.2", []Device{want(h200, 0), unknown}}},
		{name: "device handle refused",
			sys:  fakeSystem{driver: "535.1", cuda: 13000, gpus: []fakeGPU{h200, a100}, fail: map[string]bool{"device1": true}},
			want: Inventory{"535.1", "13.0", []Device{want(h200, 0), lost}}},
		{name: "versions unknown",
			sys:  fakeSystem{gpus: []fakeGPU{h200}, fail: map[string]bool{"driver": true, "cuda": true}},
			want: Inventory{"", "", []Device{want(h200, 0)}}},
		{name: "count fails", sys: fakeSystem{gpus: []fakeGPU{h200}, fail: map[string]bool{"count": true}},
			wantErr: "counting GPUs"},
		{name: "library missing", openErr: ErrNoDriver, noDriver: true,
			wantErr: "no NVIDIA driver found (libnvidia-ml.so.1 could not be loaded)"},
		{name: "kernel driver missing", openErr: noDriverError{"kernel driver not running"}, noDriver: true,
			wantErr: "no NVIDIA driver found (kernel driver not running)"},
		{name: "other init failure", openErr: errors.New("initialising NVML: NVML: Insufficient Permissions"),
			wantErr: "Insufficient Permissions"},
		{name: "open panics", panicOpn: true, noDriver: true, wantErr: "no NVIDIA driver found (loading NVML panicked"},
		{name: "query panics", sys: fakeSystem{gpus: []fakeGPU{h200, a100}, panicAt: "device1"},
			wantErr: "querying NVML panicked: boom in device1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			shutdowns := 0
			c.sys.shutdowns = &shutdowns
			opened := false
			inv, err := discover(func() (nvmlSystem, error) {
				if c.panicOpn {
					panic("dlopen exploded")
				}
				if c.openErr != nil {
					return nil, c.openErr
				}
				opened = true
				return c.sys, nil
			})
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if fmt.Sprint(inv) != fmt.Sprint(c.want) {
					t.Errorf("got  %+v\nwant %+v", inv, c.want)
				}
				if inv.Devices == nil {
					t.Error("Devices is nil; JSON would say null rather than []")
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				if len(inv.Devices) != 0 {
					t.Errorf("failed discovery still returned devices %+v", inv.Devices)
				}
			}
			if got := errors.Is(err, ErrNoDriver); got != c.noDriver {
				t.Errorf("errors.Is(%v, ErrNoDriver) = %v, want %v", err, got, c.noDriver)
			}
			if want := map[bool]int{true: 1}[opened]; shutdowns != want {
				t.Errorf("Shutdown called %d times, want %d", shutdowns, want)
			}
		})
	}
}

func TestErrNoDriverSurvivesWrapping(t *testing.T) {
	for _, err := range []error{ErrNoDriver, noDriverError{"x"}, fmt.Errorf("selecting a GPU: %w", noDriverError{"y"})} {
		if !errors.Is(err, ErrNoDriver) {
			t.Errorf("errors.Is(%v, ErrNoDriver) is false", err)
		}
	}
	if errors.Is(errors.New("no NVIDIA driver found (lookalike)"), ErrNoDriver) {
		t.Error("an unrelated error with the same words counts as ErrNoDriver")
	}
}

// Without the kernel module (no /proc/driver/nvidia) and without a GPU node a container
// runtime would have passed in, there is no GPU: Discover must say so with ErrNoDriver,
// not fail otherwise or panic, whether or not libnvidia-ml.so.1 is installed. (Run as
// root there, NVML itself creates a dead /dev/nvidiactl, so that node proves nothing.)
func TestDiscoverOnThisMachine(t *testing.T) {
	inv, err := Discover()
	if !kernelDriverVisible() {
		if !errors.Is(err, ErrNoDriver) {
			t.Fatalf("Discover() without a kernel driver = %+v, %v; want ErrNoDriver", inv, err)
		}
		if !strings.HasPrefix(err.Error(), "no NVIDIA driver found (") {
			t.Errorf("message %q does not say there is no driver", err)
		}
		return
	}
	if errors.Is(err, ErrNoDriver) && strings.Contains(err.Error(), "without cgo") {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("Discover() with a kernel driver: %v", err)
	}
	var buf bytes.Buffer
	if err := inv.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", buf.String())
}

func kernelDriverVisible() bool {
	for _, p := range []string{"/proc/driver/nvidia/version", "/dev/nvidia0", "/dev/dxg"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

func TestWriteTable(t *testing.T) {
	partial := Device{Index: 1, Name: "NVIDIA A10", MemoryTotal: 24 * gib, MemoryUsed: 0,
		UtilizationGPU: -1, UtilizationMemory: -1, ComputeMajor: 8, ComputeMinor: 6}
	lost := Device{Index: 2, UtilizationGPU: -1, UtilizationMemory: -1, ComputeMajor: -1, ComputeMinor: -1,
		Error: "NVML: Insufficient Permissions"}
	cases := []struct {
		name string
		inv  Inventory
		want string
	}{
		{"two devices", Inventory{"550.54.15", "12.4", []Device{want(h200, 0), want(a100, 1)}}, `
NVIDIA driver 550.54.15, CUDA 12.4, 2 GPUs
INDEX  NAME                   MEMORY USED / TOTAL  GPU UTIL  MEM UTIL  ARCH
0      NVIDIA H200            0.5 / 141.0 GiB      7%        3%        sm_90
1      NVIDIA A100-SXM4-80GB  40.0 / 80.0 GiB      100%      55%       sm_80
`},
		{"unknowns", Inventory{"", "", []Device{{Index: 0, UtilizationGPU: -1, UtilizationMemory: -1, ComputeMajor: -1, ComputeMinor: -1}, partial, lost}}, `
NVIDIA driver unknown, CUDA unknown, 3 GPUs
INDEX  NAME                                         MEMORY USED / TOTAL  GPU UTIL  MEM UTIL  ARCH
0      unknown                                      ?                    ?         ?         ?
1      NVIDIA A10                                   0.0 / 24.0 GiB       ?         ?         sm_86
2      unavailable: NVML: Insufficient Permissions  ?                    ?         ?         ?
`},
		{"one device", Inventory{"580.1", "13.0", []Device{{Index: 0, Name: "NVIDIA B200", MemoryTotal: 180 * gib, MemoryUsed: gib,
			UtilizationGPU: 0, UtilizationMemory: 0, ComputeMajor: 10, ComputeMinor: 0}}}, `
NVIDIA driver 580.1, CUDA 13.0, 1 GPU
INDEX  NAME         MEMORY USED / TOTAL  GPU UTIL  MEM UTIL  ARCH
0      NVIDIA B200  1.0 / 180.0 GiB      0%        0%        sm_100
`},
		{"none", Inventory{"580.1", "13.0", nil}, `
NVIDIA driver 580.1, CUDA 13.0, 0 GPUs
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := c.inv.WriteTable(&buf); err != nil {
				t.Fatal(err)
			}
			if got, want := buf.String(), c.want[1:]; got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}
