package egress

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// errBudget ends a transfer when the run's byte budget is spent.
var errBudget = errors.New("egress: byte budget spent")

// budget is a run's byte allowance, shared by all its connections.
type budget struct {
	max  int64
	used atomic.Int64
}

// spend takes up to n bytes from the budget and returns how many it got.
func (b *budget) spend(n int) int {
	for {
		cur := b.used.Load()
		rem := b.max - cur
		if rem <= 0 {
			return 0
		}
		take := min(int64(n), rem)
		if b.used.CompareAndSwap(cur, cur+take) {
			return int(take)
		}
	}
}

// refund gives back n bytes taken by spend that never reached their
// destination (a splice step that failed part-way). A spent budget stays
// spent: whoever found it exhausted has already ended every exchange, and
// reopening it would let a new one start.
func (b *budget) refund(n int) {
	if n <= 0 {
		return
	}
	for {
		cur := b.used.Load()
		if cur >= b.max {
			return
		}
		if b.used.CompareAndSwap(cur, max(cur-int64(n), 0)) {
			return
		}
	}
}

// remaining is how many bytes spend could still give, at this instant.
func (b *budget) remaining() int64 { return max(b.max-b.used.Load(), 0) }

func (b *budget) spent() bool { return b.used.Load() >= b.max }

// meteredConn is an upstream connection: every byte either way is taken
// from the budget and counted, and each read and write must make progress
// within idle.
type meteredConn struct {
	net.Conn
	p         *Proxy
	idle      time.Duration
	up, down  int64 // bytes written, read
	overspent bool
	act       *activity // a tunnel's, shared with its client side; nil otherwise
}

func (m *meteredConn) Read(b []byte) (int, error) {
	if m.idle > 0 {
		_ = m.Conn.SetReadDeadline(time.Now().Add(m.idle))
	}
	n, err := m.Conn.Read(b)
	for n == 0 && m.act.busy(err, m.idle, m.Conn.SetReadDeadline) {
		n, err = m.Conn.Read(b)
	}
	if n > 0 {
		m.act.touch()
		got := m.p.budget.spend(n)
		m.down += int64(got)
		if got < n {
			m.overspent = true
			m.p.budgetSpent()
			return got, errBudget
		}
	}
	return n, err
}

func (m *meteredConn) Write(b []byte) (int, error) {
	got := m.p.budget.spend(len(b))
	if m.idle > 0 {
		_ = m.Conn.SetWriteDeadline(time.Now().Add(m.idle))
	}
	n, err := m.Conn.Write(b[:got])
	for n < got && m.act.busy(err, m.idle, m.Conn.SetWriteDeadline) {
		var k int
		k, err = m.Conn.Write(b[n:got])
		n += k
	}
	if n > 0 {
		m.act.touch()
	}
	m.up += int64(n)
	if err == nil && got < len(b) {
		m.overspent = true
		m.p.budgetSpent()
		return n, errBudget
	}
	return n, err
}

// idleConn is the client side of an exchange: each read and write must
// make progress within idle.
type idleConn struct {
	net.Conn
	idle time.Duration
	act  *activity // a tunnel's, shared with its upstream side; nil otherwise
}

func (c idleConn) Read(b []byte) (int, error) {
	if c.idle > 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	}
	n, err := c.Conn.Read(b)
	for n == 0 && c.act.busy(err, c.idle, c.Conn.SetReadDeadline) {
		n, err = c.Conn.Read(b)
	}
	if n > 0 {
		c.act.touch()
	}
	return n, err
}

func (c idleConn) Write(b []byte) (int, error) {
	if c.idle > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	}
	n, err := c.Conn.Write(b)
	for n < len(b) && c.act.busy(err, c.idle, c.Conn.SetWriteDeadline) {
		var k int
		k, err = c.Conn.Write(b[n:])
		n += k
	}
	if n > 0 {
		c.act.touch()
	}
	return n, err
}

// activity is when a tunnel's bytes last moved, either way. A tunnel is
// idle only when neither direction has moved a byte for the idle time: a
// long download whose client sends nothing upward is not cut.
type activity struct {
	last atomic.Int64 // unix nanoseconds
}

// newActivity starts the clock now.
func newActivity() *activity {
	a := &activity{}
	a.touch()
	return a
}

// touch records that bytes moved. A nil activity ignores it.
func (a *activity) touch() {
	if a != nil {
		a.last.Store(time.Now().UnixNano())
	}
}

// busy reports, after a wait ended with err, whether to wait again: err
// is a deadline and the other direction moved bytes within idle. It then
// moves the deadline (with set) to idle after that last move. A nil
// activity (an exchange that is not a tunnel) never waits again.
func (a *activity) busy(err error, idle time.Duration, set func(time.Time) error) bool {
	if a == nil || idle <= 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	until := time.Unix(0, a.last.Load()).Add(idle)
	if !time.Now().Before(until) {
		return false
	}
	_ = set(until)
	return true
}

// closeWrite half-closes c when it can, so the peer sees EOF while the
// other direction keeps flowing; otherwise it closes c.
func closeWrite(c net.Conn) {
	switch v := c.(type) {
	case *meteredConn:
		closeWrite(v.Conn)
	case idleConn:
		closeWrite(v.Conn)
	case interface{ CloseWrite() error }:
		_ = v.CloseWrite()
	default:
		_ = c.Close()
	}
}
