//go:build cgo

package host

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// openNVML initialises NVML. Two outcomes mean "this machine has no driver" rather
// than "something is broken": the library is absent, or it is present (installed with
// a CUDA toolkit, or mounted into a container) while the kernel module is not.
func openNVML() (nvmlSystem, error) {
	switch ret := nvml.Init(); ret {
	case nvml.SUCCESS:
		return nvmlLib{}, nil
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return nil, ErrNoDriver
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return nil, noDriverError{"libnvidia-ml.so.1 loaded, but the NVIDIA kernel driver is not running"}
	default:
		return nil, fmt.Errorf("initialising NVML: %w", nvmlErr(ret))
	}
}

// nvmlErr turns NVML's status into a Go error, nil on success. The message is taken
// now, while the library that spells it is still loaded.
func nvmlErr(ret nvml.Return) error {
	if ret == nvml.SUCCESS {
		return nil
	}
	return fmt.Errorf("NVML: %s", ret.Error())
}

type nvmlLib struct{}

func (nvmlLib) DriverVersion() (string, error) {
	v, ret := nvml.SystemGetDriverVersion()
	return v, nvmlErr(ret)
}

func (nvmlLib) CUDADriverVersion() (int, error) {
	v, ret := nvml.SystemGetCudaDriverVersion()
	return v, nvmlErr(ret)
}

func (nvmlLib) DeviceCount() (int, error) {
	n, ret := nvml.DeviceGetCount()
	return n, nvmlErr(ret)
}

func (nvmlLib) Device(i int) (nvmlDevice, error) {
	d, ret := nvml.DeviceGetHandleByIndex(i)
	if ret != nvml.SUCCESS {
		return nil, nvmlErr(ret)
	}
	return nvmlDev{d}, nil
}

func (nvmlLib) Shutdown() error { return nvmlErr(nvml.Shutdown()) }

type nvmlDev struct{ d nvml.Device }

func (g nvmlDev) Name() (string, error) {
	v, ret := g.d.GetName()
	return v, nvmlErr(ret)
}

func (g nvmlDev) UUID() (string, error) {
	v, ret := g.d.GetUUID()
	return v, nvmlErr(ret)
}

func (g nvmlDev) Memory() (total, used uint64, err error) {
	m, ret := g.d.GetMemoryInfo()
	return m.Total, m.Used, nvmlErr(ret)
}

func (g nvmlDev) Utilization() (gpu, memory int, err error) {
	u, ret := g.d.GetUtilizationRates()
	return int(u.Gpu), int(u.Memory), nvmlErr(ret)
}

func (g nvmlDev) ComputeCapability() (major, minor int, err error) {
	major, minor, ret := g.d.GetCudaComputeCapability()
	return major, minor, nvmlErr(ret)
}
