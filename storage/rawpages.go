package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// The on-disk layout of a bbolt file (go.etcd.io/bbolt/internal/common),
// read here by hand because bbolt trusts its pages and crashes on
// damaged ones. Integers are in the machine's byte order.
const (
	pageHeaderLen  = 16 // id uint64, flags uint16, count uint16, overflow uint32
	elementLen     = 16 // leaf: flags, pos, ksize, vsize uint32; branch: pos, ksize uint32, pgid uint64
	bucketHeadLen  = 16 // root pgid uint64, sequence uint64; an inline page follows when root is 0
	rawBranchPage  = 0x01
	rawLeafPage    = 0x02
	rawBucketEntry = 0x01 // leaf element flag: the value is a bucket
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	metaLen        = 64 // magic, version, page size, flags, root bucket, freelist, pgid, txid, checksum
	metaSumLen     = 56 // the checksum covers the meta up to itself
	maxTreeDepth   = 64
)

var native = binary.NativeEndian

// rawFile reads the pages of a bbolt file with every offset checked, so
// that a damaged file yields errors, never a crash.
type rawFile struct {
	f        *os.File
	size     int64
	pageSize int64
	// root is the root bucket header of the newest valid meta page; nil
	// when neither meta page is valid.
	root []byte
}

// openRaw reads the meta pages of the bbolt file f and keeps the newest
// valid one. When both are invalid it returns the rawFile anyway, with a
// nil root and the system page size, and the meta errors.
func openRaw(f *os.File) (*rawFile, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	r := &rawFile{f: f, size: info.Size(), pageSize: int64(os.Getpagesize())}
	var txid uint64
	keep := func(m []byte) {
		if r.root == nil || native.Uint64(m[48:]) > txid {
			r.root, r.pageSize, txid = m[16:16+bucketHeadLen], int64(native.Uint32(m[8:])), native.Uint64(m[48:])
		}
	}
	meta0, err0 := r.meta(0)
	if err0 == nil {
		keep(meta0)
	}
	// Meta page 1 is one page after meta page 0; when page 0 does not
	// say how long a page is, try the usual sizes.
	sizes := []int64{r.pageSize, 4096, 8192, 16384, 65536}
	if err0 == nil {
		sizes = []int64{r.pageSize}
	}
	var err1 error
	for i, size := range sizes {
		meta1, err := r.meta(size)
		if err == nil {
			keep(meta1)
			break
		}
		if i == 0 {
			err1 = err
		}
	}
	if r.root == nil {
		return r, fmt.Errorf("meta page 0: %w; meta page 1: %w", err0, err1)
	}
	return r, nil
}

// meta reads and validates the meta page at offset off.
func (r *rawFile) meta(off int64) ([]byte, error) {
	buf := make([]byte, metaLen)
	if _, err := r.f.ReadAt(buf, off+pageHeaderLen); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	h := fnv.New64a()
	_, _ = h.Write(buf[:metaSumLen])
	size := native.Uint32(buf[8:])
	switch {
	case native.Uint32(buf) != boltMagic:
		return nil, errors.New("not a bbolt meta page")
	case native.Uint32(buf[4:]) != boltVersion:
		return nil, fmt.Errorf("bbolt format version %d", native.Uint32(buf[4:]))
	case native.Uint64(buf[metaSumLen:]) != h.Sum64():
		return nil, errors.New("checksum mismatch")
	case size < 512 || size > 1<<20:
		return nil, fmt.Errorf("page size %d", size)
	}
	return buf, nil
}

// pages is the number of whole pages in the file.
func (r *rawFile) pages() uint64 { return uint64(r.size / r.pageSize) }

// page reads page id with its overflow pages. It fails when the page lies
// past the end of the file or does not carry its own id.
func (r *rawFile) page(id uint64) ([]byte, error) {
	if id >= r.pages() {
		return nil, fmt.Errorf("page %d: past the end of the file (%d pages)", id, r.pages())
	}
	p := make([]byte, r.pageSize)
	if _, err := r.f.ReadAt(p, int64(id)*r.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	if got := native.Uint64(p); got != id {
		return nil, fmt.Errorf("page %d: identifies as page %d", id, got)
	}
	overflow := uint64(native.Uint32(p[12:]))
	if overflow == 0 {
		return p, nil
	}
	if id+overflow >= r.pages() {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the end of the file", id, overflow)
	}
	full := make([]byte, int64(overflow+1)*r.pageSize)
	if _, err := r.f.ReadAt(full, int64(id)*r.pageSize); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return full, nil
}

// rawElement is one element of a branch or leaf page.
type rawElement struct {
	bucket     bool   // leaf: the value is a nested bucket's header
	key, value []byte // leaf: key and value; branch: the first key of child
	child      uint64 // branch: the child page
}

// elements decodes the elements of page p (a branch or leaf page, or an
// inline bucket page). Elements whose key or value lies outside the page
// are skipped and counted in bad.
func elements(p []byte) (els []rawElement, bad int, err error) {
	if len(p) < pageHeaderLen {
		return nil, 0, errors.New("page shorter than its header")
	}
	flags, count := native.Uint16(p[8:]), int(native.Uint16(p[10:]))
	if flags != rawBranchPage && flags != rawLeafPage {
		return nil, 0, fmt.Errorf("page type %#x is neither branch nor leaf", flags)
	}
	if pageHeaderLen+count*elementLen > len(p) {
		return nil, 0, fmt.Errorf("%d elements do not fit in %d bytes", count, len(p))
	}
	for i := range count {
		off := uint64(pageHeaderLen + i*elementLen)
		e := p[off : off+elementLen]
		if flags == rawBranchPage {
			key, ok := span(p, off+uint64(native.Uint32(e)), uint64(native.Uint32(e[4:])))
			if !ok {
				bad++
				continue
			}
			els = append(els, rawElement{key: key, child: native.Uint64(e[8:])})
			continue
		}
		start := off + uint64(native.Uint32(e[4:]))
		ksize, vsize := uint64(native.Uint32(e[8:])), uint64(native.Uint32(e[12:]))
		key, okKey := span(p, start, ksize)
		value, okValue := span(p, start+ksize, vsize)
		if !okKey || !okValue {
			bad++
			continue
		}
		els = append(els, rawElement{bucket: native.Uint32(e)&rawBucketEntry != 0, key: key, value: value})
	}
	return els, bad, nil
}

// span returns p[start:start+n] when it lies within p.
func span(p []byte, start, n uint64) ([]byte, bool) {
	if start > uint64(len(p)) || n > uint64(len(p))-start {
		return nil, false
	}
	return p[start : start+n], true
}

// rawWalker walks bucket trees of a rawFile, recording the pages it
// reached and what it could not read.
type rawWalker struct {
	r       *rawFile
	reached map[uint64]bool
	lost    []string
	lostN   int
}

// maxLost caps how many losses a salvage report lists one by one.
const maxLost = 20

func (w *rawWalker) lose(format string, args ...any) {
	w.lostN++
	if len(w.lost) < maxLost {
		w.lost = append(w.lost, fmt.Sprintf(format, args...))
	}
}

// bucket calls fn with every leaf element of the bucket whose header is
// head, in key order as far as the tree is intact.
func (w *rawWalker) bucket(name string, head []byte, fn func(rawElement)) {
	if len(head) < bucketHeadLen {
		w.lose("bucket %s: header of %d bytes", name, len(head))
		return
	}
	if root := native.Uint64(head); root != 0 {
		w.tree(name, root, 0, fn)
		return
	}
	w.leaf(name, "inline page", head[bucketHeadLen:], fn)
}

// tree walks the subtree of page id of bucket name.
func (w *rawWalker) tree(name string, id uint64, depth int, fn func(rawElement)) {
	if depth > maxTreeDepth || w.reached[id] {
		w.lose("bucket %s: page %d: reached twice or too deep", name, id)
		return
	}
	p, err := w.r.page(id)
	if err != nil {
		w.lose("bucket %s: %v", name, err)
		return
	}
	for i := range uint64(len(p)) / uint64(w.r.pageSize) {
		w.reached[id+i] = true
	}
	if native.Uint16(p[8:]) != rawBranchPage {
		w.leaf(name, fmt.Sprintf("page %d", id), p, fn)
		return
	}
	els, bad, err := elements(p)
	if err != nil {
		w.lose("bucket %s: page %d: %v", name, id, err)
		return
	}
	if bad > 0 {
		w.lose("bucket %s: page %d: %d unreadable children", name, id, bad)
	}
	for _, e := range els {
		w.tree(name, e.child, depth+1, fn)
	}
}

// leaf calls fn with every readable element of the leaf page p.
func (w *rawWalker) leaf(name, where string, p []byte, fn func(rawElement)) {
	els, bad, err := elements(p)
	switch {
	case err != nil:
		w.lose("bucket %s: %s: %v", name, where, err)
		return
	case len(p) >= pageHeaderLen && native.Uint16(p[8:]) != rawLeafPage:
		w.lose("bucket %s: %s: a branch page where a leaf belongs", name, where)
		return
	case bad > 0:
		w.lose("bucket %s: %s: %d unreadable entries", name, where, bad)
	}
	for _, e := range els {
		fn(e)
	}
}
