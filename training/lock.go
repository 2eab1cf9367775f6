package training

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// LockFile is the file in a run directory through which the process training into it
// holds it (an OS lock on the open file, released when the process ends, however it
// ends); it names the holder for whoever is refused.
const LockFile = ".gosde.lock"

// holder is what the lock file says about the process that holds it.
type holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// errDirBusy is wrapped by the error lockDir returns when another process holds the
// directory.
var errDirBusy = errors.New("run directory in use")

// dirLock is a held run directory; release it when the run ends.
type dirLock struct {
	f *os.File
	// warning, when not empty, says that this system cannot lock the directory.
	warning string
}

// lockDir takes dir (which must exist) for this process, or says who holds it.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking the run directory: %w", err)
	}
	held, warning, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking the run directory %s: %w", dir, err)
	}
	if !held {
		who := describeHolder(f)
		f.Close()
		return nil, fmt.Errorf("%w: %s is training into %s; wait for it to finish, or stop it (Ctrl-C writes its checkpoint) and then continue with --resume %s",
			errDirBusy, who, dir, dir)
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(holder{PID: os.Getpid(), Host: host, Started: time.Now().Round(time.Second)})
	// Only a refused process reads this, and only while the lock is held; a failure to
	// name the holder does not stop the run.
	if f.Truncate(0) == nil {
		f.WriteAt(append(b, '\n'), 0)
	}
	return &dirLock{f: f, warning: warning}, nil
}

// describeHolder names the process that holds the lock file f, as far as it says.
func describeHolder(f *os.File) string {
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, 0)
	var h holder
	if json.Unmarshal(b[:n], &h) != nil || h.PID == 0 {
		return "another gosde process (its lock file does not say which yet)"
	}
	s := fmt.Sprintf("gosde process %d", h.PID)
	if h.Host != "" {
		s += " on " + h.Host
	}
	if !h.Started.IsZero() {
		s += ", started " + h.Started.Local().Format("2006-01-02 15:04:05") + ","
	}
	return s
}

// release gives the directory up. The lock file stays (removing it would let a
// process that has it open lock a file no longer in the directory), emptied.
func (l *dirLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
