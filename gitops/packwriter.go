package gitops

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// packWriter writes a pack file of whole objects (no deltas, zlib at
// BestSpeed) and its version 2 index directly, from content the caller
// already holds: nothing is re-read, re-inflated or re-hashed, which is
// what makes it much faster than go-git's encoder plus index builder.
type packWriter struct {
	dir     string // objects/pack
	f       *os.File
	bw      *bufio.Writer
	sum     hash.Hash // SHA-1 of the pack so far
	crc     hash.Hash32
	out     io.Writer // file, sum and crc
	zw      *zlib.Writer
	off     int64
	want    int
	entries []packEntry
}

type packEntry struct {
	hash plumbing.Hash
	crc  uint32
	off  int64
}

// newPackWriter starts a pack of exactly count objects in dir.
func newPackWriter(dir string, count int) (*packWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "tmp-pack-")
	if err != nil {
		return nil, err
	}
	p := &packWriter{dir: dir, f: f, bw: bufio.NewWriterSize(f, 256<<10), sum: sha1.New(), crc: crc32.NewIEEE(), want: count}
	p.out = io.MultiWriter(p.bw, p.sum, p.crc)
	p.zw, _ = zlib.NewWriterLevel(io.Discard, zlib.BestSpeed)
	var hdr [12]byte
	copy(hdr[:4], "PACK")
	binary.BigEndian.PutUint32(hdr[4:], 2)
	binary.BigEndian.PutUint32(hdr[8:], uint32(count))
	if _, err := p.out.Write(hdr[:]); err != nil {
		p.abort()
		return nil, err
	}
	p.off = int64(len(hdr))
	return p, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// add appends one object. h must be the object's hash (the caller read it
// under that name from a repository that checked it).
func (p *packWriter) add(h plumbing.Hash, t plumbing.ObjectType, data []byte) error {
	if len(p.entries) == p.want {
		return errors.New("pack: more objects than announced")
	}
	if p.off >= 1<<31 {
		return errors.New("pack: larger than 2 GiB")
	}
	p.crc.Reset()
	cw := &countingWriter{w: p.out}
	// Object header: type and size, 7 bits at a time.
	size := uint64(len(data))
	var hdr [16]byte
	hdr[0] = byte(t)<<4 | byte(size&0x0f)
	size >>= 4
	n := 1
	for size > 0 {
		hdr[n-1] |= 0x80
		hdr[n] = byte(size & 0x7f)
		size >>= 7
		n++
	}
	if _, err := cw.Write(hdr[:n]); err != nil {
		return err
	}
	p.zw.Reset(cw)
	if _, err := p.zw.Write(data); err != nil {
		return err
	}
	if err := p.zw.Close(); err != nil {
		return err
	}
	p.entries = append(p.entries, packEntry{hash: h, crc: p.crc.Sum32(), off: p.off})
	p.off += cw.n
	return nil
}

// finish writes the trailer and the index and returns the pack's path.
func (p *packWriter) finish() (string, error) {
	if len(p.entries) != p.want {
		p.abort()
		return "", fmt.Errorf("pack: %d objects written, %d announced", len(p.entries), p.want)
	}
	trailer := p.sum.Sum(nil)
	if _, err := p.bw.Write(trailer); err != nil {
		p.abort()
		return "", err
	}
	if err := p.bw.Flush(); err != nil {
		p.abort()
		return "", err
	}
	if err := p.f.Close(); err != nil {
		_ = os.Remove(p.f.Name())
		return "", err
	}
	base := filepath.Join(p.dir, "pack-"+hex.EncodeToString(trailer))
	if err := os.WriteFile(base+".idx", p.index(trailer), 0o444); err != nil {
		_ = os.Remove(p.f.Name())
		return "", err
	}
	if err := os.Rename(p.f.Name(), base+".pack"); err != nil {
		_ = os.Remove(p.f.Name())
		return "", err
	}
	if err := os.Chmod(base+".pack", 0o444); err != nil {
		return "", err
	}
	return base + ".pack", nil
}

// index is the version 2 pack index of the written entries.
func (p *packWriter) index(packSum []byte) []byte {
	es := slices.Clone(p.entries)
	slices.SortFunc(es, func(a, b packEntry) int { return bytes.Compare(a.hash[:], b.hash[:]) })
	var b bytes.Buffer
	b.Write([]byte{0xff, 't', 'O', 'c', 0, 0, 0, 2})
	var fan [256]uint32
	for _, e := range es {
		fan[e.hash[0]]++
	}
	var total uint32
	for i := range fan {
		total += fan[i]
		_ = binary.Write(&b, binary.BigEndian, total)
	}
	for _, e := range es {
		b.Write(e.hash[:])
	}
	for _, e := range es {
		_ = binary.Write(&b, binary.BigEndian, e.crc)
	}
	for _, e := range es {
		_ = binary.Write(&b, binary.BigEndian, uint32(e.off)) // < 2 GiB, checked in add
	}
	b.Write(packSum)
	sum := sha1.Sum(b.Bytes())
	b.Write(sum[:])
	return b.Bytes()
}

// abort removes the unfinished pack.
func (p *packWriter) abort() {
	_ = p.f.Close()
	_ = os.Remove(p.f.Name())
}

// copyPack copies a pack and its index into dir (new files: the sandbox
// may write to its copy, never to the host's).
func copyPack(pack, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	base := pack[:len(pack)-len(".pack")]
	for _, ext := range []string{".pack", ".idx"} {
		if err := copyFile(base+ext, filepath.Join(dir, filepath.Base(base)+ext)); err != nil {
			return fmt.Errorf("copy pack: %w", err)
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
