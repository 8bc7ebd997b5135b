package data

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// DefaultMaxDense is the default limit on N×D, the number of values of the
// dense matrix a LIBSVM file expands to (2^32 values = 16 GiB of float32).
const DefaultMaxDense = 1 << 32

// LIBSVMOptions configure LoadLIBSVM and ReadLIBSVM.
type LIBSVMOptions struct {
	// Features is the number of features D; 0 = the largest index seen.
	// An index above Features is an error when it is set.
	Features int
	// OneHot, if > 0, means labels are integer class labels, mapped in
	// sorted order to 0..OneHot-1 and expanded into OneHot outputs.
	OneHot int
	// AutoClasses with OneHot 0 means labels are integer class labels
	// with one output per distinct label (at most MaxClasses).
	AutoClasses bool
	// MaxRows limits the number of data rows read; 0 = all.
	MaxRows int
	// MaxDense limits N×D of the dense result, guarding against a stray
	// huge index turning a small file into an enormous matrix;
	// 0 = DefaultMaxDense.
	MaxDense int64
}

// LoadLIBSVM reads a LIBSVM/SVMlight file. Errors name the path.
// Compressed files are not decompressed here; use Load for that.
func LoadLIBSVM(path string, opt LIBSVMOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	d, err := readLIBSVM(f, path, opt, size)
	if d != nil {
		d.Name = datasetName(path)
	}
	return d, err
}

// ReadLIBSVM reads LIBSVM/SVMlight text from r: one point per line,
// "label idx:val idx:val ...", with 1-based strictly ascending indices.
// "qid:..." tokens are ignored, text after '#' is a comment, and blank lines
// are skipped. Missing indices are zeros of the dense row. name is used in
// error messages and as the dataset name.
//
// Memory: with Features set the rows are written densely as read. Without
// it each row is stored densely up to its own largest index and the rows
// are padded to the final width at the end, so the peak is at most twice
// the dense result.
func ReadLIBSVM(r io.Reader, name string, opt LIBSVMOptions) (*Dataset, error) {
	return readLIBSVM(r, name, opt, 0)
}

// readLIBSVM is ReadLIBSVM with a hint of the input size in bytes (0 =
// unknown), used to preallocate from the size of the first row.
func readLIBSVM(r io.Reader, name string, opt LIBSVMOptions, sizeHint int64) (*Dataset, error) {
	if opt.Features < 0 {
		return nil, &OptionError{File: name, Option: "Features", Value: fmt.Sprint(opt.Features), Msg: fmt.Sprintf("the number of features %d is negative", opt.Features)}
	}
	if opt.OneHot < 0 {
		return nil, &OptionError{File: name, Option: "OneHot", Value: fmt.Sprint(opt.OneHot), Msg: fmt.Sprintf("the number of one-hot classes %d is negative", opt.OneHot)}
	}
	if opt.MaxRows < 0 {
		return nil, &OptionError{File: name, Option: "MaxRows", Value: fmt.Sprint(opt.MaxRows), Msg: fmt.Sprintf("the row limit %d is negative", opt.MaxRows)}
	}
	if opt.MaxDense < 0 {
		return nil, fmt.Errorf("%s: dense-size limit %d is negative", name, opt.MaxDense)
	}
	maxDense := opt.MaxDense
	if maxDense == 0 {
		maxDense = DefaultMaxDense
	}
	if opt.Features > MaxFeatures {
		return nil, fmt.Errorf("%s: %d features exceed the limit of %d features", name, opt.Features, MaxFeatures)
	}
	if int64(opt.Features) > maxDense {
		return nil, fmt.Errorf("%s: %d features exceed the dense-size limit of %d values", name, opt.Features, maxDense)
	}

	lr := newLineReader(r)
	if err := skipBOM(lr.br); err != nil {
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	var (
		vals     []float32 // row-major; row i is vals[rowStart[i]:rowStart[i+1]]
		bytesIn  int64     // input bytes consumed so far (for the size hint)
		rowStart = []int{0}
		labels   []float32
		classes  *classCollector
		maxIdx   int  // largest index seen
		ragged   bool // some row is narrower than maxIdx (only without Features)
	)
	if opt.OneHot > 0 {
		classes = newClassCollector(opt.OneHot)
	} else if opt.AutoClasses {
		classes = newAutoClassCollector()
	}
	for opt.MaxRows == 0 || len(rowStart)-1 < opt.MaxRows {
		raw, lineNo, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read: %w", name, err)
		}
		bytesIn += int64(len(raw)) + 1
		if i := bytes.IndexByte(raw, '#'); i >= 0 {
			raw = raw[:i]
		}
		line := string(raw)
		rows := int64(len(rowStart) - 1)
		perr := func(field int, fieldName, msg string, err error) error {
			return &ParseError{File: name, Line: lineNo, Field: field, Name: fieldName, Msg: msg, Err: err}
		}

		field, prev := 0, 0
		rest := line
		for {
			tok := ""
			tok, rest = nextToken(rest)
			if tok == "" {
				break
			}
			field++
			if field == 1 {
				if classes != nil {
					v, msg, err := parseClassLabel(tok)
					if msg != "" {
						return nil, perr(field, "label", msg, err)
					}
					if msg := classes.add(v, lineNo); msg != "" {
						return nil, perr(field, "label", msg, nil)
					}
				} else {
					v, msg, err := parseValue(tok)
					if msg != "" {
						return nil, perr(field, "label", "bad label: "+msg, err)
					}
					labels = append(labels, v)
				}
				continue
			}
			if strings.HasPrefix(tok, "qid:") {
				continue
			}
			colon := strings.IndexByte(tok, ':')
			if colon < 0 {
				return nil, perr(field, "", "bad pair: want index:value, got "+quoteValue(tok), nil)
			}
			idx, err := strconv.Atoi(tok[:colon])
			switch {
			case err != nil && errors.Is(err, strconv.ErrRange):
				return nil, perr(field, "", fmt.Sprintf("feature index %s exceeds the limit of %d features", tok[:min(colon, 40)], MaxFeatures), strconv.ErrRange)
			case err != nil:
				return nil, perr(field, "", "bad pair "+quoteValue(tok)+": index is not an integer", err)
			case idx < 1:
				return nil, perr(field, "", fmt.Sprintf("bad pair %s: index %d, indices are 1-based", quoteValue(tok), idx), nil)
			case idx <= prev:
				return nil, perr(field, "", fmt.Sprintf("index %d not greater than previous index %d (indices must ascend)", idx, prev), nil)
			case idx > MaxFeatures:
				return nil, perr(field, "", fmt.Sprintf("feature index %d exceeds the limit of %d features", idx, MaxFeatures), nil)
			case opt.Features > 0 && idx > opt.Features:
				return nil, perr(field, "", fmt.Sprintf("index %d exceeds the %d features expected", idx, opt.Features), nil)
			}
			v, msg, err := parseValue(tok[colon+1:])
			if msg != "" {
				return nil, perr(field, "", fmt.Sprintf("feature %d: %s", idx, msg), err)
			}
			if opt.Features == 0 && idx > maxIdx {
				if (rows+1)*int64(idx) > maxDense {
					return nil, perr(field, "", fmt.Sprintf("index %d would make the dense matrix %d×%d, over the limit of %d values",
						idx, rows+1, idx, maxDense), nil)
				}
				if rows > 0 {
					ragged = true
				}
				maxIdx = idx
			}
			vals = append(padZeros(vals, rowStart[len(rowStart)-1]+idx-1), v)
			prev = idx
		}
		if field == 0 {
			continue // blank or comment-only line
		}
		start := rowStart[len(rowStart)-1]
		width := len(vals) - start
		// Every row, not only one with a new largest index, brings the
		// dense result closer to the limit.
		if w := max(opt.Features, maxIdx); (rows+1)*int64(w) > maxDense {
			return nil, perr(0, "", fmt.Sprintf("%d rows of %d features exceed the limit of %d values", rows+1, w, maxDense), nil)
		}
		if opt.Features > 0 {
			vals = padZeros(vals, start+opt.Features)
		} else if width < maxIdx {
			ragged = true
		}
		rowStart = append(rowStart, len(vals))
		if len(rowStart) == 2 && sizeHint > 0 && len(vals) > 0 {
			// Preallocate for as many rows as the first one suggests.
			estRows := sizeHint/bytesIn*21/20 + 16
			if opt.MaxRows > 0 {
				estRows = min(estRows, int64(opt.MaxRows))
			}
			want := min(estRows*int64(len(vals)), maxDense, sizeHint/2+int64(len(vals)))
			if want > int64(cap(vals)) {
				vals = slices.Grow(vals, int(want)-len(vals))
			}
			rowStart = slices.Grow(rowStart, int(estRows))
		}
	}

	n := len(rowStart) - 1
	if n == 0 {
		return nil, fmt.Errorf("%s: no data rows", name)
	}
	d := opt.Features
	if d == 0 {
		d = maxIdx
	}
	if d == 0 {
		return nil, fmt.Errorf("%s: no features: no row has an index:value pair", name)
	}
	x := vals
	if opt.Features == 0 && ragged {
		x = make([]float32, n*d)
		for i := 0; i < n; i++ {
			copy(x[i*d:], vals[rowStart[i]:rowStart[i+1]])
		}
	}
	ds := &Dataset{Name: name, N: n, D: d, O: 1, X: x, Y: labels}
	if classes != nil {
		if msg := classes.sizeError(); msg != "" {
			return nil, fmt.Errorf("%s: %s", name, msg)
		}
		ds.Y, ds.Classes = classes.expand()
		ds.O = len(ds.Classes)
	}
	return ds, nil
}

// padZeros extends v with zeros to length n (no-op if already that long).
func padZeros(v []float32, n int) []float32 {
	old := len(v)
	if n <= old {
		return v
	}
	v = slices.Grow(v, n-old)[:n]
	clear(v[old:])
	return v
}

// nextToken splits off the next space- or tab-separated token of s.
func nextToken(s string) (tok, rest string) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	return s[i:j], s[j:]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

// lineReader returns lines of any length without their line ending.
type lineReader struct {
	br   *bufio.Reader
	buf  []byte
	line int
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 1<<16)}
}

// skipBOM drops a UTF-8 byte order mark at the start of br, so that it does
// not end up glued to the first field. It returns read errors other than
// io.EOF (bufio hands an error out only once, so it must not be dropped).
func skipBOM(br *bufio.Reader) error {
	b, err := br.Peek(3)
	if len(b) == 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		_, err = br.Discard(3)
	}
	if err == io.EOF {
		err = nil
	}
	return err
}

// next returns the next line (valid until the following call) and its
// 1-based number, or io.EOF.
func (lr *lineReader) next() ([]byte, int, error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(lr.buf)+len(chunk) > maxLineBytes {
				return nil, 0, fmt.Errorf("line %d longer than %d MiB (the limit for %d features)", lr.line+1, maxLineBytes>>20, MaxFeatures)
			}
			lr.buf = append(lr.buf, chunk...)
			continue
		}
		if err != nil && err != io.EOF {
			return nil, 0, err
		}
		if err == io.EOF && len(chunk) == 0 && len(lr.buf) == 0 {
			return nil, 0, io.EOF
		}
		var line []byte
		if len(lr.buf) > 0 {
			lr.buf = append(lr.buf, chunk...)
			line = lr.buf
		} else {
			line = chunk
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		lr.line++
		return line, lr.line, nil
	}
}
