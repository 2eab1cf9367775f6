package host

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Device is one NVIDIA GPU as NVML reports it. An attribute NVML cannot give (not
// supported on this board, in this MIG mode, or failing) is left unknown rather than
// failing the whole listing: "" for strings, 0 for memory (no GPU has none), -1 for
// utilisation and compute capability.
type Device struct {
	// Index is NVML's index, which follows PCI bus order. CUDA numbers devices
	// fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, so the two can differ on a
	// machine with mixed GPUs; UUID identifies a device unambiguously.
	Index             int    `json:"index"`
	Name              string `json:"name"`
	UUID              string `json:"uuid"`
	MemoryTotal       uint64 `json:"memory_total_bytes"`
	MemoryUsed        uint64 `json:"memory_used_bytes"`
	UtilizationGPU    int    `json:"utilization_gpu_percent"`
	UtilizationMemory int    `json:"utilization_memory_percent"`
	ComputeMajor      int    `json:"compute_major"`
	ComputeMinor      int    `json:"compute_minor"`
	// Error is set when NVML counts the device but will not hand it out (no
	// permission, GPU fallen off the bus): it is listed so indices stay meaningful.
	Error string `json:"error,omitempty"`
}

// Inventory is what Discover finds: the driver, once, and every device it drives.
type Inventory struct {
	DriverVersion string `json:"driver_version"`
	// CUDAVersion is the newest CUDA the driver supports ("12.4"), not a toolkit's.
	CUDAVersion string   `json:"cuda_version"`
	Devices     []Device `json:"devices"`
}

// noDriverError says why there is no usable driver while remaining errors.Is-equal to
// ErrNoDriver, so callers can treat every such cause alike and still show the real one.
type noDriverError struct{ reason string }

func (e noDriverError) Error() string { return "no NVIDIA driver found (" + e.reason + ")" }

func (e noDriverError) Is(target error) bool {
	_, ok := target.(noDriverError)
	return ok
}

// ErrNoDriver is returned, possibly with a more precise reason, by Discover on a
// machine without a usable NVIDIA driver. It is an expected state, not a failure:
// such a machine simply has no GPUs to offer.
var ErrNoDriver error = noDriverError{"libnvidia-ml.so.1 could not be loaded"}

// Discover lists the NVIDIA GPUs of this machine through NVML. It returns an error
// that errors.Is ErrNoDriver when there is no driver to ask, and another error only
// when the driver answers but cannot even count its devices.
func Discover() (Inventory, error) {
	return discover(openNVML)
}

// nvmlSystem and nvmlDevice are the part of NVML that Discover needs, in plain Go
// types, so that tests can stand in for a driver this machine does not have.
type nvmlSystem interface {
	DriverVersion() (string, error)
	// CUDADriverVersion is NVML's encoding, 1000*major + 10*minor.
	CUDADriverVersion() (int, error)
	DeviceCount() (int, error)
	Device(index int) (nvmlDevice, error)
	Shutdown() error
}

type nvmlDevice interface {
	Name() (string, error)
	UUID() (string, error)
	Memory() (total, used uint64, err error)
	Utilization() (gpu, memory int, err error)
	ComputeCapability() (major, minor int, err error)
}

func discover(open func() (nvmlSystem, error)) (inv Inventory, err error) {
	opened := false
	defer func() {
		// cgo bindings to a library found at run time are where an unexpected driver
		// or a stub shows up as a panic; a listing is never worth crashing for.
		if r := recover(); r != nil {
			inv = Inventory{}
			if !opened {
				err = noDriverError{fmt.Sprintf("loading NVML panicked: %v", r)}
			} else {
				err = fmt.Errorf("querying NVML panicked: %v", r)
			}
		}
	}()
	sys, err := open()
	if err != nil {
		return Inventory{}, err
	}
	opened = true
	defer sys.Shutdown() // nothing to do about a failing shutdown once the answers are in

	if v, err := sys.DriverVersion(); err == nil {
		inv.DriverVersion = v
	}
	if v, err := sys.CUDADriverVersion(); err == nil {
		inv.CUDAVersion = cudaVersionString(v)
	}
	n, err := sys.DeviceCount()
	if err != nil {
		return Inventory{}, fmt.Errorf("counting GPUs through NVML: %w", err)
	}
	inv.Devices = make([]Device, 0, n)
	for i := range n {
		inv.Devices = append(inv.Devices, describe(sys, i))
	}
	return inv, nil
}

func describe(sys nvmlSystem, i int) Device {
	d := Device{Index: i, UtilizationGPU: -1, UtilizationMemory: -1, ComputeMajor: -1, ComputeMinor: -1}
	dev, err := sys.Device(i)
	if err != nil {
		d.Error = err.Error()
		return d
	}
	if v, err := dev.Name(); err == nil {
		d.Name = v
	}
	if v, err := dev.UUID(); err == nil {
		d.UUID = v
	}
	if total, used, err := dev.Memory(); err == nil {
		d.MemoryTotal, d.MemoryUsed = total, used
	}
	if g, m, err := dev.Utilization(); err == nil {
		d.UtilizationGPU, d.UtilizationMemory = g, m
	}
	if major, minor, err := dev.ComputeCapability(); err == nil {
		d.ComputeMajor, d.ComputeMinor = major, minor
	}
	return d
}

func cudaVersionString(v int) string {
	if v <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
}

// WriteTable writes inv for a person: the driver on one line, then a row per device.
// (Not named Format: that name belongs to fmt.Formatter's signature.)
func (inv Inventory) WriteTable(w io.Writer) error {
	gpus := "GPUs"
	if len(inv.Devices) == 1 {
		gpus = "GPU"
	}
	if _, err := fmt.Fprintf(w, "NVIDIA driver %s, CUDA %s, %d %s\n",
		orUnknown(inv.DriverVersion), orUnknown(inv.CUDAVersion), len(inv.Devices), gpus); err != nil {
		return err
	}
	if len(inv.Devices) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tNAME\tMEMORY USED / TOTAL\tGPU UTIL\tMEM UTIL\tARCH")
	for _, d := range inv.Devices {
		name := orUnknown(d.Name)
		if d.Error != "" {
			name = "unavailable: " + d.Error
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n",
			d.Index, name, memory(d), percent(d.UtilizationGPU), percent(d.UtilizationMemory), arch(d))
	}
	return tw.Flush()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func memory(d Device) string {
	if d.MemoryTotal == 0 {
		return "?"
	}
	const gib = 1 << 30
	return fmt.Sprintf("%.1f / %.1f GiB", float64(d.MemoryUsed)/gib, float64(d.MemoryTotal)/gib)
}

func percent(p int) string {
	if p < 0 {
		return "?"
	}
	return fmt.Sprintf("%d%%", p)
}

func arch(d Device) string {
	if d.ComputeMajor < 0 || d.ComputeMinor < 0 {
		return "?"
	}
	return fmt.Sprintf("sm_%d%d", d.ComputeMajor, d.ComputeMinor)
}
