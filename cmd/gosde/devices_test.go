package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gosde/gosde/host"
)

// On this machine, whatever it has: both forms succeed, and agree with host.Discover.
func TestDevicesHere(t *testing.T) {
	_, discoverErr := host.Discover()
	noDriver := errors.Is(discoverErr, host.ErrNoDriver)
	if discoverErr != nil && !noDriver {
		t.Skipf("the driver here is broken, which is not what this test is about: %v", discoverErr)
	}

	out, err := run(t, "devices")
	if err != nil {
		t.Fatalf("gosde devices: %v\n%s", err, out)
	}
	want := "NVIDIA driver "
	if noDriver {
		want = "no NVIDIA driver found ("
	}
	if !strings.HasPrefix(out, want) {
		t.Errorf("gosde devices printed %q, want it to start with %q", out, want)
	}

	out, err = run(t, "devices", "--json")
	if err != nil {
		t.Fatalf("gosde devices --json: %v\n%s", err, out)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("gosde devices --json is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"driver_version", "cuda_version", "devices"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q:\n%s", k, out)
		}
	}
	var devices []any
	if err := json.Unmarshal(doc["devices"], &devices); err != nil || devices == nil {
		t.Errorf("devices is %s, want an array", doc["devices"])
	}
	var msg string
	_ = json.Unmarshal(doc["error"], &msg)
	if noDriver != strings.HasPrefix(msg, "no NVIDIA driver found (") {
		t.Errorf("error field %q with no driver = %v", msg, noDriver)
	}
	if noDriver && (len(devices) != 0 || string(doc["driver_version"]) != `""`) {
		t.Errorf("no driver, yet devices %v and driver_version %s", devices, doc["driver_version"])
	}
}

func TestWriteDevices(t *testing.T) {
	two := host.Inventory{DriverVersion: "550.54.15", CUDAVersion: "12.4", Devices: []host.Device{
		{Index: 0, Name: "NVIDIA H200", UUID: "GPU-a", MemoryTotal: 141 << 30, MemoryUsed: 1 << 30,
			UtilizationGPU: 5, UtilizationMemory: 1, ComputeMajor: 9, ComputeMinor: 0},
		{Index: 1, Name: "NVIDIA A10", UUID: "GPU-b", MemoryTotal: 24 << 30,
			UtilizationGPU: -1, UtilizationMemory: -1, ComputeMajor: 8, ComputeMinor: 6},
	}}
	cases := []struct {
		name    string
		json    bool
		inv     host.Inventory
		err     error
		want    []string // substrings of the output
		wantErr string
	}{
		{name: "table", inv: two, want: []string{"NVIDIA driver 550.54.15, CUDA 12.4, 2 GPUs", "NVIDIA H200", "sm_90", "sm_86"}},
		{name: "json", json: true, inv: two, want: []string{`"driver_version": "550.54.15"`, `"cuda_version": "12.4"`,
			`"name": "NVIDIA A10"`, `"memory_total_bytes": 151397597184`, `"utilization_gpu_percent": -1`, `"compute_minor": 6`}},
		{name: "no driver", err: host.ErrNoDriver,
			want: []string{"no NVIDIA driver found (libnvidia-ml.so.1 could not be loaded)\n"}},
		{name: "no driver json", json: true, err: host.ErrNoDriver,
			want: []string{`"driver_version": ""`, `"devices": []`, `"error": "no NVIDIA driver found (libnvidia-ml.so.1 could not be loaded)"`}},
		{name: "broken driver", err: errors.New("initialising NVML: NVML: Driver/library version mismatch"),
			wantErr: "version mismatch"},
		{name: "broken driver json", json: true, err: errors.New("counting GPUs through NVML: NVML: Unknown Error"),
			wantErr: "counting GPUs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := writeDevices(&out, c.json, func() (host.Inventory, error) { return c.inv, c.err })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.json && !json.Valid(out.Bytes()) {
				t.Fatalf("not JSON:\n%s", out.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
