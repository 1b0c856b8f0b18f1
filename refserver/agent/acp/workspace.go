package acp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// workspace is a session's working directory, the only place the agent's
// file-system and terminal requests may reach. Paths are checked twice:
// lexically (an absolute path below the directory, no "..") and by os.Root,
// which refuses symbolic links that lead outside, even ones made while the
// request runs.
type workspace struct {
	dir  string // as configured
	real string // dir with symbolic links resolved
	root *os.Root
}

var errOutside = errors.New("outside the session's working directory")

func openWorkspace(dir string) (*workspace, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(real)
	if err != nil {
		return nil, err
	}
	return &workspace{dir: filepath.Clean(dir), real: real, root: root}, nil
}

func (w *workspace) close() { _ = w.root.Close() }

// rel is path relative to the workspace, or an error when path is not
// absolute or not below the workspace.
func (w *workspace) rel(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", errors.New("not an absolute path")
	}
	clean := filepath.Clean(path)
	for _, base := range []string{w.dir, w.real} {
		if rel, err := filepath.Rel(base, clean); err == nil && filepath.IsLocal(rel) {
			return rel, nil
		}
	}
	return "", errOutside
}

// read returns the text of path, from the 1-based line for limit lines
// when they are given (nil: the start, the rest).
func (w *workspace) read(path string, line, limit *int, maxBytes int64) (string, error) {
	rel, err := w.rel(path)
	if err != nil {
		return "", err
	}
	f, err := w.root.Open(rel)
	if err != nil {
		return "", describeFSError(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", describeFSError(err)
	}
	if fi.IsDir() {
		return "", errors.New("a directory, not a file")
	}
	if fi.Size() > maxBytes {
		return "", fmt.Errorf("%d bytes, more than the %d-byte limit (limits.read_file_bytes)", fi.Size(), maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return "", describeFSError(err)
	}
	if int64(len(data)) > maxBytes {
		return "", fmt.Errorf("more than the %d-byte limit (limits.read_file_bytes)", maxBytes)
	}
	return lines(string(data), line, limit), nil
}

// lines selects limit lines from the 1-based line of text.
func lines(text string, line, limit *int) string {
	if line == nil && limit == nil {
		return text
	}
	all := strings.SplitAfter(text, "\n")
	start := 0
	if line != nil && *line > 1 {
		start = min(*line-1, len(all))
	}
	end := len(all)
	if limit != nil && *limit >= 0 && start+*limit < end {
		end = start + *limit
	}
	return strings.Join(all[start:end], "")
}

// write replaces path's content, making missing parent directories.
func (w *workspace) write(path, content string) error {
	rel, err := w.rel(path)
	if err != nil {
		return err
	}
	if rel == "." {
		return errors.New("the working directory itself, not a file")
	}
	if dir := filepath.Dir(rel); dir != "." {
		if err := w.root.MkdirAll(dir, 0o755); err != nil {
			return describeFSError(err)
		}
	}
	if err := w.root.WriteFile(rel, []byte(content), 0o644); err != nil {
		return describeFSError(err)
	}
	return nil
}

// dirFor is the directory path names for a terminal, checked like a file
// path (symbolic links resolved and still inside).
func (w *workspace) dirFor(path string) (string, error) {
	rel, err := w.rel(path)
	if err != nil {
		return "", err
	}
	sub, err := w.root.OpenRoot(rel) // refuses links that lead outside
	if err != nil {
		return "", describeFSError(err)
	}
	_ = sub.Close()
	return filepath.Join(w.real, rel), nil
}

// describeFSError drops the path from err (the agent knows it, and the
// server's own directory layout need not appear).
func describeFSError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		if strings.Contains(pe.Err.Error(), "path escapes") {
			return errOutside
		}
		return pe.Err
	}
	return err
}
