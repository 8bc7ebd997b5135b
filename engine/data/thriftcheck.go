package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The Parquet library decodes the file footer and the page headers (Thrift
// compact protocol) allocating what the data claims: a list of 2^31
// elements or a 2 GiB string from a few bytes. checkThrift walks such a
// structure first, allocating nothing, and refuses any length or count
// larger than the bytes that remain (every element takes at least one).

var errThrift = errors.New("malformed Thrift structure")

// maxThriftDepth bounds the nesting of structures and containers.
const maxThriftDepth = 64

// checkThriftStruct checks the compact-protocol struct at the start of b
// and returns its length in bytes.
func checkThriftStruct(b []byte) (int, error) {
	return skipThrift(b, 0, 12, 0)
}

func thriftUvarint(b []byte, pos int) (uint64, int, error) {
	v, n := binary.Uvarint(b[min(pos, len(b)):])
	if n <= 0 {
		return 0, pos, errThrift
	}
	return v, pos + n, nil
}

// skipThrift skips one value of compact type typ at b[pos:].
func skipThrift(b []byte, pos int, typ byte, depth int) (int, error) {
	if depth > maxThriftDepth {
		return pos, fmt.Errorf("%w: nested more than %d deep", errThrift, maxThriftDepth)
	}
	need := func(n uint64) error {
		if n > uint64(len(b)-pos) {
			return fmt.Errorf("%w: claims %d bytes or elements at byte %d, %d remain", errThrift, n, pos, len(b)-pos)
		}
		return nil
	}
	var err error
	switch typ {
	case 1, 2: // boolean true/false (a field's value is in its type)
		return pos, nil
	case 3: // byte
		if err := need(1); err != nil {
			return pos, err
		}
		return pos + 1, nil
	case 4, 5, 6: // i16, i32, i64 (zigzag varints)
		_, pos, err = thriftUvarint(b, pos)
		return pos, err
	case 7: // double
		if err := need(8); err != nil {
			return pos, err
		}
		return pos + 8, nil
	case 8: // binary
		var n uint64
		if n, pos, err = thriftUvarint(b, pos); err != nil {
			return pos, err
		}
		if err := need(n); err != nil {
			return pos, err
		}
		return pos + int(n), nil
	case 9, 10: // list, set
		if err := need(1); err != nil {
			return pos, err
		}
		h := b[pos]
		pos++
		n := uint64(h >> 4)
		if n == 15 {
			if n, pos, err = thriftUvarint(b, pos); err != nil {
				return pos, err
			}
		}
		if err := need(n); err != nil {
			return pos, err
		}
		et := h & 15
		for range n {
			if et == 1 || et == 2 { // booleans in a list take a byte each
				et = 3
			}
			if pos, err = skipThrift(b, pos, et, depth+1); err != nil {
				return pos, err
			}
		}
		return pos, nil
	case 11: // map
		var n uint64
		if n, pos, err = thriftUvarint(b, pos); err != nil {
			return pos, err
		}
		if n == 0 {
			return pos, nil
		}
		if err := need(1 + n); err != nil {
			return pos, err
		}
		kt, vt := b[pos]>>4, b[pos]&15
		pos++
		for range n {
			if pos, err = skipThrift(b, pos, kt, depth+1); err != nil {
				return pos, err
			}
			if pos, err = skipThrift(b, pos, vt, depth+1); err != nil {
				return pos, err
			}
		}
		return pos, nil
	case 12: // struct: fields until a stop byte
		for {
			if err := need(1); err != nil {
				return pos, err
			}
			h := b[pos]
			pos++
			if h == 0 {
				return pos, nil
			}
			if h>>4 == 0 { // a long-form field id follows
				if _, pos, err = thriftUvarint(b, pos); err != nil {
					return pos, err
				}
			}
			if pos, err = skipThrift(b, pos, h&15, depth+1); err != nil {
				return pos, err
			}
		}
	}
	return pos, fmt.Errorf("%w: unknown type %d at byte %d", errThrift, typ, pos)
}

// checkParquetFooter checks the footer (file metadata) of a Parquet file
// of size bytes before the Parquet library decodes it.
func checkParquetFooter(r io.ReaderAt, size int64) error {
	if size < 12 {
		return fmt.Errorf("%d bytes is too short for a Parquet file", size)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if string(tail[4:]) != "PAR1" {
		return fmt.Errorf("no PAR1 magic at the end: not a Parquet file (or an encrypted one)")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return fmt.Errorf("footer of %d bytes in a %d-byte file", n, size)
	}
	footer := make([]byte, n)
	if _, err := r.ReadAt(footer, size-8-n); err != nil {
		return err
	}
	if _, err := checkThriftStruct(footer); err != nil {
		return fmt.Errorf("footer: %w", err)
	}
	return nil
}
