//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package training

import (
	"os"
	"runtime"
)

// tryLock cannot lock on this system: the run goes ahead, with a warning that nothing
// keeps a second process out of its directory.
func tryLock(*os.File) (held bool, warning string, err error) {
	return true, "warning: gosde cannot lock a run directory on " + runtime.GOOS +
		": nothing stops a second gosde train from writing into this one at the same time; run one per directory", nil
}

func unlock(*os.File) error { return nil }
