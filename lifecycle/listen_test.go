package lifecycle

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	logtest "github.com/sirupsen/logrus/hooks/test"
	"gotest.tools/v3/assert"
)

// failingListener wraps a listener; once fail is called, Accept returns
// the errors given to it, one per call, then the last one for ever.
type failingListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
	set  chan struct{}
}

func (l *failingListener) fail(errs ...error) {
	l.mu.Lock()
	l.errs = errs
	l.mu.Unlock()
	close(l.set)
}

func (l *failingListener) Accept() (net.Conn, error) {
	<-l.set
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.errs[0]
	if len(l.errs) > 1 {
		l.errs = l.errs[1:]
	}
	return nil, err
}

// temporary is an accept error the listener retries after a pause.
type temporary struct{}

func (temporary) Error() string   { return "too many open files" }
func (temporary) Temporary() bool { return true }
func (temporary) Timeout() bool   { return false }

// TestFailedAcceptLoopShutsDown: an accept loop that stops with an error
// is not merely logged: the server shuts down with the error as the cause,
// so it does not stay listening (and healthy) while nothing accepts.
// Temporary errors before it go through the server's logger, with their
// backoff. Fake clock, in-memory network.
func TestFailedAcceptLoopShutsDown(t *testing.T) {
	bubble(t, func(t *testing.T) {
		mn := newMemNet()
		var fl *failingListener
		listen := func(network, address string) (net.Listener, error) {
			ln, err := mn.Listen(network, address)
			if err != nil {
				return nil, err
			}
			fl = &failingListener{Listener: ln, set: make(chan struct{})}
			return fl, nil
		}
		log := quietLog(t)
		hook := logtest.NewLocal(log)
		s := startServerWith(t, Deps{Log: log, Listen: listen}, nil)
		fl.fail(temporary{}, temporary{}, errors.New("accept: broken"))
		s.WaitForShutdown()
		assert.DeepEqual(t, historyLines(s), []string{
			"init -start-> listening (start)",
			"listening -shutdown-> shutting_down (client accept loop failed: accept: broken)",
			"shutting_down -stopped-> stopped (shutdown complete)",
		})
		var logged []string
		for _, e := range hook.AllEntries() {
			if strings.Contains(e.Message, "accept") {
				logged = append(logged, e.Message)
			}
		}
		assert.DeepEqual(t, logged[:3], []string{
			"Temporary client accept error (too many open files), sleeping 10ms",
			"Temporary client accept error (too many open files), sleeping 20ms",
			"The client accept loop stopped: accept: broken",
		})
		synctest.Wait()
	})
}

// TestFailedMonitoringListenerShutsDown: so does the monitoring listener
// (nats-server exits when its monitoring server fails).
func TestFailedMonitoringListenerShutsDown(t *testing.T) {
	bubble(t, func(t *testing.T) {
		mn := newMemNet()
		var mon *failingListener
		n := 0
		listen := func(network, address string) (net.Listener, error) {
			ln, err := mn.Listen(network, address)
			if n++; err != nil || n == 1 {
				return ln, err // the client listener
			}
			mon = &failingListener{Listener: ln, set: make(chan struct{})}
			return mon, nil
		}
		s := startServerWith(t, Deps{Listen: listen}, func(o *Options) { o.HTTPPort = RandomPort })
		mon.fail(errors.New("monitor: broken"))
		s.WaitForShutdown()
		h := historyLines(s)
		assert.Equal(t, h[1], "listening -shutdown-> shutting_down (monitoring listener failed: monitor: broken)")
	})
}
