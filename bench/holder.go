package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A holder is a client process that opens N raw TCP connections to a
// server, completes the NATS handshake on each (read INFO, send CONNECT and
// PING, wait for PONG), then holds them idle and notes when the server
// closes each one. It stays light: one parked reader goroutine and a small
// buffer per connection, no client library.
//
// With -watch, each connection has a reader goroutine that notes when the
// server closed it (for the lame-duck timeline). Without it nothing reads
// the connections while they are held, so the client processes use no CPU
// while the server shuts down (real clients would be on other machines);
// the closes are checked afterwards.
//
// It talks to the harness over its standard streams: it prints
// "ready N" once all N connections are open (or "fail TEXT" and exits);
// on "report MS" it waits up to MS milliseconds for every connection to be
// closed by the server and prints "closes K T1 T2 ..." (K closes and, with
// -watch, each close time in Unix nanoseconds); it exits when its standard
// input closes, or by itself after -lifetime.
//
// With -space C (the subject-space scenario, space.go), each connection is
// a light subscriber (subscriber.go) that counts the messages delivered to
// it; the holder's connections are numbers -base to -base+N-1 of C in all.
// On "subscribe FROM TO" each connection subscribes to every subscription
// i in [FROM, TO) with i mod C equal to its number (spaceSubject(i), sid
// i+1) and waits for the PONG to a PING after them; the holder prints
// "subscribed K NS": K subscriptions, NS nanoseconds from the command to
// the last PONG. On "count" it prints "count M", the messages delivered to
// all its connections so far.

// connectLine is the CONNECT every held connection sends: protocol 1, so
// that it receives the lame-duck INFO, like a current client library.
const connectLine = `CONNECT {"verbose":false,"pedantic":false,"protocol":1,"lang":"bench","version":"0"}` + "\r\nPING\r\n"

func holderMain(args []string) int {
	fs := flag.NewFlagSet("holder", flag.ContinueOnError)
	addr := fs.String("addr", "", "server host:port (loopback)")
	n := fs.Int("n", 0, "connections to hold")
	conc := fs.Int("conc", 32, "handshakes in flight")
	lifetime := fs.Duration("lifetime", 5*time.Minute, "exit by itself after this long")
	watch := fs.Bool("watch", false, "note each close as it happens (a reader goroutine per connection)")
	space := fs.Int("space", 0, "subject-space mode: connections in all, over every holder")
	base := fs.Int("base", 0, "subject-space mode: the number of this holder's first connection")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n <= 0 || !isLoopback(*addr) {
		fmt.Println("fail need -n > 0 and a loopback -addr")
		return 2
	}
	raiseNoFile()
	time.AfterFunc(*lifetime, func() { os.Exit(3) })

	h := &holding{closes: make([]atomic.Int64, *n), all: make(chan struct{}), watch: *watch}
	conns, err := h.open(*addr, *n, *conc)
	if err != nil {
		fmt.Println("fail", strings.ReplaceAll(err.Error(), "\n", " "))
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		return 1
	}
	if *space > 0 {
		return holdSpace(conns, *base, *space)
	}
	fmt.Println("ready", len(conns))

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		if cmd != "report" {
			continue
		}
		ms, _ := strconv.Atoi(arg)
		wait := time.Duration(ms) * time.Millisecond
		if !h.watch {
			fmt.Printf("closes %d\n", h.check(conns, wait))
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-h.all:
		case <-t.C:
		}
		t.Stop()
		var b strings.Builder
		k := 0
		for i := range h.closes {
			if v := h.closes[i].Load(); v != 0 {
				k++
				b.WriteByte(' ')
				b.WriteString(strconv.FormatInt(v, 10))
			}
		}
		fmt.Printf("closes %d%s\n", k, b.String())
	}
	for _, c := range conns {
		c.Close()
	}
	return 0
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// holding records when the server closed each held connection.
type holding struct {
	watch  bool
	closes []atomic.Int64 // Unix nanoseconds; 0 while open
	closed atomic.Int64
	all    chan struct{} // closed once every connection is closed
}

// check counts the connections the server has closed (a read ends with an
// error other than a timeout), giving them together at most wait. It is for
// holders without -watch.
func (h *holding) check(conns []net.Conn, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	buf := make([]byte, 256)
	k := 0
	for _, c := range conns {
		c.SetReadDeadline(deadline)
		for {
			_, err := c.Read(buf)
			if err == nil {
				continue // leftover output; the close follows it
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				k++
			}
			break
		}
	}
	return k
}

// open opens n connections with conc handshakes in flight and starts a
// watcher for each. On error it returns what it opened so far.
func (h *holding) open(addr string, n, conc int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, err := handshake(addr)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
					next.Store(int64(n)) // stop the others
					return
				}
				conns[i] = c
				if h.watch {
					go h.watchConn(c, i)
				}
			}
		}()
	}
	wg.Wait()
	return conns, firstErr
}

// handshake opens one connection and waits for the PONG to its first PING,
// so that the server has fully registered the client.
func handshake(addr string) (net.Conn, error) {
	var (
		c   net.Conn
		err error
	)
	// A few tries: on a machine that also runs other work, a loopback
	// connect is now and then refused or reset.
	for try := 0; try < 3; try++ {
		if c, err = net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, connectLine); err != nil {
		c.Close()
		return nil, err
	}
	var got []byte
	buf := make([]byte, 1024)
	for !bytes.Contains(got, []byte("PONG\r\n")) {
		k, err := c.Read(buf)
		got = append(got, buf[:k]...)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("handshake: %w (got %q)", err, got)
		}
		if len(got) > 16<<10 {
			c.Close()
			return nil, errors.New("handshake: no PONG in 16 KiB")
		}
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// watch reads (and drops) whatever the server sends until it closes the
// connection, then notes the time.
func (h *holding) watchConn(c net.Conn, i int) {
	buf := make([]byte, 256)
	for {
		if _, err := c.Read(buf); err != nil {
			h.closes[i].Store(time.Now().UnixNano())
			if int(h.closed.Add(1)) == len(h.closes) {
				close(h.all)
			}
			return
		}
	}
}

// holderProc is the harness's side of one holder process.
type holderProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	n     int
}

// perHolder is how many connections one holder process opens; it stays
// well under the per-process open-file limit.
const perHolder = 5000

// startHolders opens total connections to addr from as many holder
// processes as needed and returns once all of them are ready; watch is the
// holders' -watch.
func startHolders(addr string, total int, watch bool) ([]*holderProc, error) {
	return startHoldersMode(addr, total, watch, false)
}

// startHoldersMode is startHolders, with the holders in subject-space mode
// when space is set (each told its connections' numbers).
func startHoldersMode(addr string, total int, watch, space bool) ([]*holderProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var hs []*holderProc
	for left := total; left > 0; left -= perHolder {
		n := min(left, perHolder)
		cmd := exec.Command(exe, "holder", "-addr", addr, "-n", strconv.Itoa(n), "-watch="+strconv.FormatBool(watch))
		if space {
			cmd.Args = append(cmd.Args, "-space", strconv.Itoa(total), "-base", strconv.Itoa(total-left))
		}
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return hs, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return hs, err
		}
		if err := cmd.Start(); err != nil {
			return hs, err
		}
		hs = append(hs, &holderProc{cmd: cmd, stdin: stdin, out: bufio.NewReaderSize(stdout, 1<<20), n: n})
	}
	var errs []error
	for _, h := range hs {
		line, err := h.readLine(2 * time.Minute)
		if err == nil && line != "ready "+strconv.Itoa(h.n) {
			err = fmt.Errorf("holder: %s", line)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return hs, errors.Join(errs...)
}

// readLine reads one line from the holder, at most limit.
func (h *holderProc) readLine(limit time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := h.out.ReadString('\n')
		ch <- res{strings.TrimSuffix(s, "\n"), err}
	}()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-t.C:
		h.cmd.Process.Kill()
		return "", fmt.Errorf("holder: no answer within %v", limit)
	}
}

// report asks how many connections the server closed and, for a watching
// holder, when; it waits up to wait for the last ones.
func (h *holderProc) report(wait time.Duration) (int, []int64, error) {
	if _, err := fmt.Fprintf(h.stdin, "report %d\n", wait.Milliseconds()); err != nil {
		return 0, nil, err
	}
	line, err := h.readLine(wait + 30*time.Second)
	if err != nil {
		return 0, nil, err
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "closes" {
		return 0, nil, fmt.Errorf("holder: %q", line)
	}
	k, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, nil, fmt.Errorf("holder: %q", line)
	}
	out := make([]int64, 0, len(f)-2)
	for _, s := range f[2:] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, v)
	}
	return k, out, nil
}

// stopHolders ends every holder: close its input, then kill it if it has
// not exited within 10 s.
func stopHolders(hs []*holderProc) {
	for _, h := range hs {
		h.stdin.Close()
	}
	for _, h := range hs {
		done := make(chan struct{})
		go func() { h.cmd.Wait(); close(done) }()
		t := time.NewTimer(10 * time.Second)
		select {
		case <-done:
		case <-t.C:
			h.cmd.Process.Kill()
			<-done
		}
		t.Stop()
	}
}

// reportAll collects from every holder how many connections were closed
// and, from watching holders, when.
func reportAll(hs []*holderProc, wait time.Duration) (int, []int64, error) {
	var all []int64
	total := 0
	deadline := time.Now().Add(wait)
	for _, h := range hs {
		k, ts, err := h.report(max(0, time.Until(deadline)))
		if err != nil {
			return 0, nil, err
		}
		total += k
		all = append(all, ts...)
	}
	return total, all, nil
}
