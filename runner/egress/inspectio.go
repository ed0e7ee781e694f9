package egress

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// The I/O shape of an inspected tunnel. Inspection decrypts and
// re-encrypts every byte, so what it can save is system calls: the
// upstream connection is read through a large buffer (many TLS records a
// read), a response body is read several records at a time when they are
// already here, and the records one body write makes towards the agent
// leave in one write.

// maxRecord is the most one TLS record takes on the wire: a 5-byte
// header, 16 KiB of plaintext and at most 256 bytes of expansion.
const maxRecord = 5 + 16<<10 + 256

// readBuffer is the read buffer under the proxy's TLS to the real host.
const readBuffer = 256 << 10

// bufferedConn reads its connection through a buffer, and says how much
// is buffered: with a whole TLS record there, the next read of the TLS
// connection above does not wait on the network.
type bufferedConn struct {
	net.Conn
	br *bufio.Reader
}

func newBufferedConn(c net.Conn) *bufferedConn {
	return &bufferedConn{Conn: c, br: bufio.NewReaderSize(c, readBuffer)}
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.br.Read(b) }

// ready reports whether a whole TLS record is buffered.
func (c *bufferedConn) ready() bool { return c.br.Buffered() >= maxRecord }

// fillReader reads a response body into as much of the caller's buffer as
// can be had without waiting: after the first read, it goes on only while
// ready says the next read will not block. A streamed response (events,
// long polls) is passed on as soon as it arrives, as before.
type fillReader struct {
	r interface {
		Read([]byte) (int, error)
		Close() error
	}
	ready func() bool
}

func (f *fillReader) Read(b []byte) (int, error) {
	n, err := f.r.Read(b)
	for err == nil && n > 0 && len(b)-n >= maxRecord && f.ready() {
		var k int
		k, err = f.r.Read(b[n:])
		n += k
		if k == 0 {
			break
		}
	}
	return n, err
}

func (f *fillReader) Close() error { return f.r.Close() }

// batchConn is the agent's side of an inspected tunnel, under the TLS the
// proxy serves. Between begin and end its writes are gathered and sent as
// one: a body write of many TLS records costs one system call, not one a
// record. Outside a batch it writes through.
type batchConn struct {
	net.Conn
	mu    sync.Mutex
	depth int
	buf   []byte
}

// maxBatch bounds what a batch holds before it is sent anyway.
const maxBatch = 256 << 10

func (c *batchConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.depth == 0 || len(c.buf)+len(b) > maxBatch {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		if c.depth == 0 || len(b) > maxBatch {
			return c.Conn.Write(b)
		}
	}
	c.buf = append(c.buf, b...)
	return len(b), nil
}

func (c *batchConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

// begin starts gathering writes.
func (c *batchConn) begin() {
	c.mu.Lock()
	c.depth++
	c.mu.Unlock()
}

// end sends what was gathered once the outermost batch ends.
func (c *batchConn) end() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.depth--
	if c.depth > 0 {
		return nil
	}
	return c.flushLocked()
}

// batchWriter makes each body write of an HTTP/1.x response one batch of
// its tunnel's batchConn. (Not HTTP/2: there the connection is written by
// the server's own goroutine, and a frame held back while a stream waits
// for flow control could wait forever.)
type batchWriter struct {
	http.ResponseWriter
	c *batchConn
}

func (w *batchWriter) Write(b []byte) (int, error) {
	w.c.begin()
	n, err := w.ResponseWriter.Write(b)
	if ferr := w.c.end(); err == nil && ferr != nil {
		err = ferr
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the response's Flush.
func (w *batchWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
