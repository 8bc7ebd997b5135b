package data

import (
	"bufio"
	"fmt"
	"math"
)

// MaxFeatures is the largest number of features a file may have: the
// network's input limit (nn.MaxWidth). Readers refuse wider input while
// reading, before allocating anything sized by it.
const MaxFeatures = 1 << 20

// MaxClasses is the most distinct class labels a target column may hold
// when the number of classes is taken from the data (AutoClasses).
const MaxClasses = 1 << 16

// MaxValues is the most values a matrix read from a file may hold (rows ×
// columns, also rows × one-hot outputs): 2^31 − 1, 8 GiB of float32.
const MaxValues = math.MaxInt32

// maxLineBytes bounds one line of a CSV file (64 bytes per value of the
// widest allowed row), so that a file without line breaks is refused
// before it is buffered whole.
const maxLineBytes = 64 * MaxFeatures

// maxPreallocValues bounds the values preallocated when the input size is
// unknown; beyond it the matrix grows as rows arrive.
const maxPreallocValues = 1 << 20

// limitError reports input over a reader's limits.
type limitError struct {
	line int
	msg  string
}

func (e *limitError) Error() string { return e.msg }

// fieldLimiter passes CSV text through a line at a time, failing as soon
// as one line holds more than maxFields fields or maxBytes bytes. A line is
// handed on only once it is whole and within the limits, so that a refused
// line is never parsed. It follows quotes the way encoding/csv does, so
// separators and line breaks inside quoted fields do not count. A
// multi-byte separator is not counted (only the byte limit applies then).
type fieldLimiter struct {
	br        *bufio.Reader
	comma     byte
	maxFields int
	maxBytes  int
	line      int // 1-based physical line being read
	fields    int
	bytes     int
	inQuote   bool
	buf       []byte // a line longer than br's buffer, being gathered
	out       []byte // the part of the current line not yet handed on
	err       error  // handed on once out is drained
}

func newFieldLimiter(br *bufio.Reader, comma rune, maxFields int) *fieldLimiter {
	l := &fieldLimiter{br: br, maxFields: maxFields, maxBytes: maxLineBytes, line: 1, fields: 1}
	if comma < 0x80 {
		l.comma = byte(comma)
	}
	return l
}

func (l *fieldLimiter) Read(p []byte) (int, error) {
	for len(l.out) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		l.fill()
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}

// fill reads the next physical line into out, or sets err.
func (l *fieldLimiter) fill() {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.br.ReadSlice('\n')
		if lerr := l.scan(chunk); lerr != nil {
			l.err, l.buf = lerr, nil
			return
		}
		if err == bufio.ErrBufferFull {
			l.buf = append(l.buf, chunk...)
			continue
		}
		if len(l.buf) > 0 {
			l.out = append(l.buf, chunk...)
		} else {
			l.out = chunk
		}
		if err != nil {
			l.err = err
		}
		return
	}
}

// scan counts the fields and bytes of the line in b.
func (l *fieldLimiter) scan(b []byte) error {
	for _, c := range b {
		switch {
		case c == '"':
			l.inQuote = !l.inQuote
		case c == '\n':
			l.line++
			if !l.inQuote {
				l.fields, l.bytes = 1, 0
				continue
			}
		case c == l.comma && l.comma != 0 && !l.inQuote:
			l.fields++
		}
		l.bytes++
		if l.fields > l.maxFields {
			return &limitError{l.line, fmt.Sprintf("more than %d fields on the line (the limit is %d features)", l.maxFields, MaxFeatures)}
		}
		if l.bytes > l.maxBytes {
			return &limitError{l.line, fmt.Sprintf("line longer than %d MiB (the limit for %d features)", l.maxBytes>>20, MaxFeatures)}
		}
	}
	return nil
}
