package refserver

import (
	"sync"
	"time"
)

// workers runs the turn runners on goroutines that outlive one turn. A new
// goroutine starts with a small stack, and the SQLite store (C translated
// to Go) needs a deep one: growing it, copy after copy, cost a fresh runner
// goroutine more than the turn's own work on the memory store. A worker
// keeps its grown stack for the next turn.
type workers struct {
	jobs     chan func()
	quit     chan struct{}
	stopOnce sync.Once
}

// workerIdle is how long an idle worker waits for a job before it exits.
const workerIdle = 10 * time.Second

func newWorkers() *workers { return &workers{jobs: make(chan func()), quit: make(chan struct{})} }

// run runs job on an idle worker, or on a new one when none is idle.
func (w *workers) run(job func()) {
	select {
	case w.jobs <- job:
	default:
		go w.work(job)
	}
}

// stop makes idle workers exit; later jobs still run, each on a goroutine
// of its own that exits after it.
func (w *workers) stop() { w.stopOnce.Do(func() { close(w.quit) }) }

func (w *workers) work(job func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		job()
		idle.Reset(workerIdle)
		select {
		case job = <-w.jobs:
		case <-idle.C:
			return
		case <-w.quit:
			return
		}
	}
}
