//go:build linux

package egress

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// spliceSupported reports whether tunnels can use splice(2) here.
const spliceSupported = true

// spliceChunk is the most one splice step reads: the pipe's size, which
// is also the default /proc/sys/fs/pipe-max-size, so an unprivileged
// process may ask for it.
const spliceChunk = 1 << 20

// spliceCopiers returns a tunnel's two directions as splice loops
// (socket → pipe → socket, the bytes never copied into user space), or ok
// false when a side cannot splice: then relay uses the copy loop.
//
// The shapes are those connect builds: client an idleConn, clientR a
// *bufio.Reader over client holding what followed the CONNECT line, up a
// *meteredConn; each over a *net.TCPConn or stream *net.UnixConn. A Dial
// option returning any other conn keeps the copy loop.
func spliceCopiers(client net.Conn, clientR io.Reader, up net.Conn) (upload, download func() error, ok bool) {
	ic, ok1 := client.(idleConn)
	br, ok2 := clientR.(*bufio.Reader)
	m, ok3 := up.(*meteredConn)
	if !ok1 || !ok2 || !ok3 {
		return nil, nil, false
	}
	cs, ok1 := newSpliceConn(ic.Conn, ic.idle)
	us, ok2 := newSpliceConn(m.Conn, m.idle)
	if !ok1 || !ok2 {
		return nil, nil, false
	}
	toUp := &spliceDir{src: cs, dst: us, m: m, count: &m.up, fallback: func() error { return pipe(m, br) }}
	toClient := &spliceDir{src: us, dst: cs, m: m, count: &m.down, fallback: func() error { return pipe(ic, m) }}
	upload = func() error {
		if err := sendBuffered(m, br); err != nil {
			return err
		}
		return toUp.run()
	}
	return upload, toClient.run, true
}

// sendBuffered writes what br already read past the CONNECT line through
// the metered path, so it goes first and counts like every other byte.
func sendBuffered(m *meteredConn, br *bufio.Reader) error {
	n := br.Buffered()
	if n == 0 {
		return nil
	}
	b, _ := br.Peek(n) // cannot fail: the bytes are buffered
	_, err := m.Write(b)
	_, _ = br.Discard(n)
	return err
}

// spliceConn is one socket of a spliced direction: its RawConn, through
// which splice(2) waits on Go's poller (so Close and deadlines still end a
// blocked step), and the idle time that bounds each step.
type spliceConn struct {
	conn net.Conn
	raw  syscall.RawConn
	idle time.Duration
}

// newSpliceConn reports false for anything but a TCP or stream Unix
// socket: splice needs a real descriptor on both ends, and a datagram or
// seqpacket socket would not keep a byte stream's semantics.
func newSpliceConn(c net.Conn, idle time.Duration) (spliceConn, bool) {
	var sc syscall.Conn
	switch v := c.(type) {
	case *net.TCPConn:
		sc = v
	case *net.UnixConn:
		if v.LocalAddr().Network() != "unix" {
			return spliceConn{}, false
		}
		sc = v
	default:
		return spliceConn{}, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return spliceConn{}, false
	}
	return spliceConn{conn: c, raw: raw, idle: idle}, true
}

// armRead and armWrite re-arm the idle deadline before a step, as
// idleConn and meteredConn do before each Read and Write.
func (c spliceConn) armRead() {
	if c.idle > 0 {
		_ = c.conn.SetReadDeadline(time.Now().Add(c.idle))
	}
}

func (c spliceConn) armWrite() {
	if c.idle > 0 {
		_ = c.conn.SetWriteDeadline(time.Now().Add(c.idle))
	}
}

// wrap names the socket in a splice error the way net names it in a read
// or write error, so a Decision's detail reads the same on either path.
// RawConn's own errors (closed, deadline) name it already, as "raw-read"
// or "raw-write".
func (c spliceConn) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if oe, ok := err.(*net.OpError); ok {
		e := *oe
		e.Op = op
		return &e
	}
	return &net.OpError{Op: op, Net: c.conn.LocalAddr().Network(), Source: c.conn.LocalAddr(),
		Addr: c.conn.RemoteAddr(), Err: os.NewSyscallError("splice", err)}
}

// spliceDir relays one direction of a tunnel: src → pipe → dst. Every
// byte is taken from the run's budget and counted in m, with the same cut
// as meteredConn: the bytes the budget allows reach dst, then the tunnel
// ends with errBudget.
type spliceDir struct {
	src, dst spliceConn
	m        *meteredConn // the tunnel's upstream side: budget, counters
	count    *int64       // &m.up or &m.down: bytes that reached dst
	fallback func() error // the copy loop, when the kernel refuses splice
}

// run moves bytes until src's EOF (nil) or an error.
func (d *spliceDir) run() error {
	p, err := getPipe()
	if err != nil {
		return d.fallback()
	}
	defer putPipe(p)
	for first := true; ; first = false {
		n, err := d.fill(p)
		if first {
			// EINVAL/ENOSYS from the first splice: this kernel or socket
			// type cannot splice; nothing was consumed, so copy instead.
			if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
				return d.fallback()
			}
			spliceDirections.Add(1)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // EOF
		}
		if err := d.send(p, n); err != nil {
			return err
		}
	}
}

// fill splices what src has (up to a chunk) into the empty pipe; 0 bytes
// with no error is EOF. It reads no more than the budget has left, so
// little is read only to be dropped at the cut. With the budget spent it
// reads one byte, which tells data (the tunnel is cut) from EOF (it ends
// cleanly), as meteredConn's Read does.
func (d *spliceDir) fill(p *splicePipe) (int, error) {
	limit := spliceChunk
	if rem := d.m.p.budget.remaining(); rem < int64(limit) {
		limit = int(max(rem, 1))
	}
	d.src.armRead()
	var n int
	var serr error
	read := func() error {
		err := d.src.raw.Read(func(fd uintptr) bool {
			n, serr = splice(p.w, int(fd), limit)
			return serr != unix.EAGAIN // the pipe is empty: EAGAIN means src has nothing yet
		})
		if err == nil {
			err = serr
		}
		return err
	}
	err := read()
	// Silent this way but not the other: wait on, as the copy loop does.
	for n == 0 && d.m.act.busy(err, d.src.idle, d.src.conn.SetReadDeadline) {
		err = read()
	}
	if n > 0 {
		d.m.act.touch()
	}
	p.data += n
	return n, d.src.wrap("read", err)
}

// send takes the n bytes in the pipe from the budget and splices what it
// allowed to dst. Bytes taken but not delivered (dst failed) are refunded
// and not counted; if the budget allowed fewer than n, the tunnel is cut
// after those reach dst.
func (d *spliceDir) send(p *splicePipe, n int) error {
	b := &d.m.p.budget
	got := b.spend(n)
	w, err := d.drain(p, got)
	*d.count += int64(w)
	if err != nil {
		b.refund(got - w)
		return err
	}
	if got < n {
		d.m.overspent = true
		d.m.p.budgetSpent()
		return errBudget
	}
	return nil
}

// drain splices want bytes from the pipe to dst. The idle deadline is
// re-armed after every partial write, so only a dst that takes nothing
// for idle ends the step, as with a Write of the copy loop.
func (d *spliceDir) drain(p *splicePipe, want int) (int, error) {
	done := 0
	for waitOn := false; done < want; {
		if !waitOn {
			d.dst.armWrite()
		}
		var n int
		var serr error
		err := d.dst.raw.Write(func(fd uintptr) bool {
			n, serr = splice(int(fd), p.r, want-done)
			return serr != unix.EAGAIN // the pipe holds data: EAGAIN means dst is full
		})
		if err == nil {
			err = serr
		}
		done += n
		p.data -= n
		if n > 0 {
			d.m.act.touch()
		}
		// Stuck this way but the other direction moves: the exchange is
		// not idle; wait on until idle after that move.
		waitOn = err != nil && n == 0 && d.m.act.busy(err, d.dst.idle, d.dst.conn.SetWriteDeadline)
		if waitOn {
			continue
		}
		if err != nil {
			return done, d.dst.wrap("write", err)
		}
		if n == 0 { // cannot happen with data in the pipe; do not spin if it does
			return done, d.dst.wrap("write", io.ErrNoProgress)
		}
	}
	return done, nil
}

// splice moves up to limit bytes from in to out without blocking (both
// sockets are non-blocking, and so is the pipe), retrying EINTR.
func splice(out, in, limit int) (int, error) {
	for {
		n, err := unix.Splice(in, nil, out, nil, limit, unix.SPLICE_F_NONBLOCK)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		return int(n), nil
	}
}

// splicePipe is the kernel buffer between the two sockets of a direction.
type splicePipe struct {
	pipeFDs
	data    int // bytes in the pipe
	cleanup runtime.Cleanup
}

type pipeFDs struct{ r, w int }

func (f pipeFDs) close() {
	_ = unix.Close(f.r)
	_ = unix.Close(f.w)
}

// pipePool keeps empty pipes for the next tunnel: a tunnel is often short
// and creating a pipe costs two syscalls plus a resize. Pooled pipes the
// GC drops are closed by their cleanup.
var pipePool sync.Pool

func getPipe() (*splicePipe, error) {
	if p, ok := pipePool.Get().(*splicePipe); ok {
		return p, nil
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, os.NewSyscallError("pipe2", err)
	}
	// A larger pipe means fewer steps; a smaller one (the resize can fail
	// against pipe-user-pages limits) still works.
	_, _ = unix.FcntlInt(uintptr(fds[0]), unix.F_SETPIPE_SZ, spliceChunk)
	p := &splicePipe{pipeFDs: pipeFDs{r: fds[0], w: fds[1]}}
	p.cleanup = runtime.AddCleanup(p, pipeFDs.close, p.pipeFDs)
	return p, nil
}

// putPipe pools p, or closes it when bytes are left in it (a failed or
// cut transfer): they must not leak into another tunnel.
func putPipe(p *splicePipe) {
	if p.data != 0 {
		p.cleanup.Stop()
		p.close()
		return
	}
	pipePool.Put(p)
}
