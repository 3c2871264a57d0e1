package desktoptest

import (
	"sync"
	"testing"
)

// Loop plays the part of Fyne's UI goroutine in tests. Fyne's test driver runs
// fyne.Do inline on the caller's goroutine, so model goroutines would update widgets
// concurrently; the model's Options.Do = loop.Do funnels every change through Loop
// instead, and tests touch widgets inside loop.Wait, so widgets see one goroutine at a
// time, as in the app.
type Loop struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []func()
	closed bool
	done   chan struct{}
}

// NewLoop starts a loop that stops when the test ends (after the cleanups registered
// later, such as closing the model, have run).
func NewLoop(tb testing.TB) *Loop {
	l := &Loop{done: make(chan struct{})}
	l.cond = sync.NewCond(&l.mu)
	go l.run()
	tb.Cleanup(l.stop)
	return l
}

func (l *Loop) run() {
	defer close(l.done)
	for {
		l.mu.Lock()
		for len(l.queue) == 0 && !l.closed {
			l.cond.Wait()
		}
		if len(l.queue) == 0 {
			l.mu.Unlock()
			return
		}
		fn := l.queue[0]
		l.queue = l.queue[1:]
		l.mu.Unlock()
		fn()
	}
}

// Do queues fn; functions run one at a time, in order. After the test it drops fn.
func (l *Loop) Do(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.queue = append(l.queue, fn)
	l.cond.Signal()
}

// Wait runs fn on the loop after everything queued before it, and waits for it.
func (l *Loop) Wait(fn func()) {
	ran := make(chan struct{})
	l.Do(func() {
		defer close(ran)
		fn()
	})
	select {
	case <-ran:
	case <-l.done:
	}
}

func (l *Loop) stop() {
	l.mu.Lock()
	l.closed = true
	l.cond.Signal()
	l.mu.Unlock()
	<-l.done
}
