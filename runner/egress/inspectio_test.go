package egress

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
)

// writeCounter is a net.Conn that records each write it is given.
type writeCounter struct {
	net.Conn
	writes []int
	got    bytes.Buffer
}

func (w *writeCounter) Write(b []byte) (int, error) {
	w.writes = append(w.writes, len(b))
	return w.got.Write(b)
}

func TestBatchConn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		batch  bool
		sizes  []int
		writes int
	}{
		{"outside a batch each write goes through", false, []int{5, 6, 7}, 3},
		{"inside a batch the writes leave as one", true, []int{5, 6, 7}, 1},
		{"a batch past its bound is sent in parts", true, []int{maxBatch - 10, 20, 30}, 2},
		{"a write larger than the bound goes through", true, []int{10, maxBatch + 1, 10}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wc := &writeCounter{}
			c := &batchConn{Conn: wc}
			var want bytes.Buffer
			if tc.batch {
				c.begin()
			}
			for i, n := range tc.sizes {
				b := bytes.Repeat([]byte{byte('a' + i)}, n)
				want.Write(b)
				if k, err := c.Write(b); k != n || err != nil {
					t.Fatalf("Write: %d, %v", k, err)
				}
			}
			if tc.batch {
				if err := c.end(); err != nil {
					t.Fatal(err)
				}
			}
			if len(wc.writes) != tc.writes || !bytes.Equal(wc.got.Bytes(), want.Bytes()) {
				t.Errorf("writes %v (want %d), bytes equal: %v", wc.writes, tc.writes, bytes.Equal(wc.got.Bytes(), want.Bytes()))
			}
		})
	}
}

// TestFillReaderDoesNotWait: with nothing more buffered, a read returns
// what the first read got (a streamed response is not held back); with
// records buffered, it goes on filling until less than a record of room
// is left.
func TestFillReaderDoesNotWait(t *testing.T) {
	src := strings.Repeat("x", 4*maxRecord)
	for _, tc := range []struct {
		ready bool
		want  int
	}{{false, 1000}, {true, 20000}} { // 20000: until less than a record of room is left
		r := &fillReader{r: io.NopCloser(&chunked{s: src, n: 1000}), ready: func() bool { return tc.ready }}
		b := make([]byte, 2*maxRecord+3000)
		n, err := r.Read(b)
		if err != nil || n != tc.want {
			t.Errorf("ready=%v: read %d, %v; want %d", tc.ready, n, err, tc.want)
		}
	}
}

// chunked returns at most n bytes of s a read.
type chunked struct {
	s string
	n int
}

func (c *chunked) Read(b []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := copy(b, c.s[:min(c.n, len(c.s))])
	c.s = c.s[k:]
	return k, nil
}
