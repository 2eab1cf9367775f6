package plots

import (
	"bytes"

	"github.com/gosde/gosde/checkpoint"
	"gonum.org/v1/plot/vg/vgimg"
)

func writePNG(file string, img *vgimg.Canvas) error {
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(file, buf.Bytes())
}
