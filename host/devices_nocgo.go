//go:build !cgo

package host

// go-nvml reaches libnvidia-ml.so.1 through cgo, so a binary built with
// CGO_ENABLED=0 cannot ask any driver, present or not.
func openNVML() (nvmlSystem, error) {
	return nil, noDriverError{"this gosde was built without cgo, so it cannot load libnvidia-ml.so.1"}
}
