package data

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// NumPy .npy and .npz files: a small reader of little-endian (or
// byte-order-free) C-order arrays of float32, float64, signed and unsigned
// integers and booleans, of one or two dimensions (format versions 1, 2
// and 3). Nothing is allocated from a header's word: the values are read
// in chunks and the arrays grow as the data arrives, so a header that
// claims a huge shape over a short file fails at the end of the data, not
// in an allocation.

// NPYOptions configures LoadNPY.
type NPYOptions struct {
	// Target is the target column of a 2-D .npy matrix: a 0-based index,
	// negative counting from the end (−1: the last column). It is not
	// used for .npz, whose targets are the array named y (or Y).
	Target int
	// NoTarget reads a .npy matrix as features only.
	NoTarget bool
	// OneHot, if > 0, means the targets are integer class labels (one
	// column), mapped in sorted order to 0..OneHot−1 and expanded into
	// OneHot outputs, as for CSV.
	OneHot int
	// AutoClasses with OneHot 0: the targets are integer class labels with
	// one output per distinct label (at most MaxClasses).
	AutoClasses bool
}

// npyArray is a decoded array: its shape (1 or 2 dimensions) and values.
type npyArray struct {
	shape []int
	data  []float64
	kind  byte // 'f', 'i', 'u' or 'b'
}

const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds a header's length (numpy writes a few hundred bytes).
const maxNPYHeader = 1 << 20

// readNPY decodes one .npy stream; name is used in errors.
func readNPY(r io.Reader, name string) (*npyArray, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	bad := func(f string, a ...any) error { return fmt.Errorf("%s: npy: %s", name, fmt.Sprintf(f, a...)) }
	var pre [8]byte
	if _, err := io.ReadFull(br, pre[:]); err != nil {
		return nil, bad("no .npy header (%v)", err)
	}
	if string(pre[:6]) != npyMagic {
		return nil, bad("not a .npy file (no \\x93NUMPY magic)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, bad("truncated header")
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, bad("truncated header")
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, bad("format version %d.%d is not supported (want 1, 2 or 3)", pre[6], pre[7])
	}
	if hlen > maxNPYHeader {
		return nil, bad("header of %d bytes is longer than the %d allowed", hlen, maxNPYHeader)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, bad("truncated header (%v)", err)
	}
	descr, fortran, shape, err := parseNPYHeader(string(hdr))
	if err != nil {
		return nil, bad("header %q: %v", quoteValue(strings.TrimSpace(string(hdr))), err)
	}
	if fortran {
		return nil, bad("fortran_order arrays are not supported (save a C-order array: np.ascontiguousarray)")
	}
	if len(shape) < 1 || len(shape) > 2 {
		return nil, bad("shape %v: want a vector or a matrix (1 or 2 dimensions)", shape)
	}
	if len(shape) == 2 && shape[1] > MaxFeatures+1 {
		return nil, bad("shape %v: %d columns is more than the %d allowed", shape, shape[1], MaxFeatures+1)
	}
	total := 1
	for _, s := range shape {
		if s < 0 || s > 0 && total > math.MaxInt32/s {
			return nil, bad("shape %v: more than 2^31 values", shape)
		}
		total *= s
	}
	if len(descr) < 3 {
		return nil, bad("dtype %q is not supported", descr)
	}
	order, kind := descr[0], descr[1]
	size, err := strconv.Atoi(descr[2:])
	if err != nil {
		return nil, bad("dtype %q is not supported", descr)
	}
	ok := false
	switch kind {
	case 'f':
		ok = size == 4 || size == 8
	case 'i', 'u':
		ok = size == 1 || size == 2 || size == 4 || size == 8
	case 'b':
		ok = size == 1
	}
	if !ok || order == '>' || (order != '<' && order != '|' && order != '=') || (order == '|' && size != 1) {
		return nil, bad("dtype %q is not supported (want little-endian float32/float64, integers or bool)", descr)
	}
	a := &npyArray{shape: shape, kind: kind, data: make([]float64, 0, min(total, maxPreallocValues))}
	buf := make([]byte, 1<<16-(1<<16)%size)
	for len(a.data) < total {
		want := min(len(buf), (total-len(a.data))*size)
		if _, err := io.ReadFull(br, buf[:want]); err != nil {
			return nil, bad("data ends after %d of the %d values of shape %v", len(a.data), total, shape)
		}
		for k := 0; k < want; k += size {
			b := buf[k : k+size]
			var v float64
			switch {
			case kind == 'f' && size == 4:
				v = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
			case kind == 'f':
				v = math.Float64frombits(binary.LittleEndian.Uint64(b))
			case kind == 'u' || kind == 'b':
				var u uint64
				for j := size - 1; j >= 0; j-- {
					u = u<<8 | uint64(b[j])
				}
				v = float64(u)
			default:
				var u uint64
				for j := size - 1; j >= 0; j-- {
					u = u<<8 | uint64(b[j])
				}
				shift := 64 - 8*uint(size)
				v = float64(int64(u<<shift) >> shift)
			}
			a.data = append(a.data, v)
		}
	}
	return a, nil
}

// parseNPYHeader reads the Python dict literal of a .npy header:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }.
func parseNPYHeader(h string) (descr string, fortran bool, shape []int, err error) {
	h = strings.TrimSpace(h)
	if !strings.HasPrefix(h, "{") || !strings.HasSuffix(h, "}") {
		return "", false, nil, errors.New("not a dict")
	}
	field := func(key string) (string, bool) {
		for _, q := range []string{"'", `"`} {
			if i := strings.Index(h, q+key+q); i >= 0 {
				rest := strings.TrimSpace(h[i+len(key)+2:])
				if !strings.HasPrefix(rest, ":") {
					return "", false
				}
				return strings.TrimSpace(rest[1:]), true
			}
		}
		return "", false
	}
	d, ok := field("descr")
	if !ok || len(d) < 2 || (d[0] != '\'' && d[0] != '"') {
		return "", false, nil, errors.New("no descr string")
	}
	end := strings.IndexByte(d[1:], d[0])
	if end < 0 {
		return "", false, nil, errors.New("unterminated descr")
	}
	descr = d[1 : 1+end]
	f, ok := field("fortran_order")
	switch {
	case ok && strings.HasPrefix(f, "True"):
		fortran = true
	case ok && strings.HasPrefix(f, "False"):
	default:
		return "", false, nil, errors.New("no fortran_order")
	}
	s, ok := field("shape")
	if !ok || !strings.HasPrefix(s, "(") {
		return "", false, nil, errors.New("no shape tuple")
	}
	close := strings.IndexByte(s, ')')
	if close < 0 {
		return "", false, nil, errors.New("unterminated shape")
	}
	for _, p := range strings.Split(s[1:close], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		p = strings.TrimSuffix(p, "L")
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return "", false, nil, fmt.Errorf("shape entry %q", p)
		}
		shape = append(shape, v)
		if len(shape) > 8 {
			return "", false, nil, errors.New("more than 8 dimensions")
		}
	}
	return descr, fortran, shape, nil
}

// LoadNPY reads a data set from a .npy matrix (the target column chosen
// by opt.Target, as a CSV file without header) or from a .npz archive
// holding the features as an array named x (or X: N×D, or N for one
// feature) and the targets as y (or Y: N, or N×O). Integer and boolean
// arrays are read as their values; with opt.OneHot the targets must be one
// column of integer class labels.
func LoadNPY(path string, opt NPYOptions) (*Dataset, error) {
	if opt.OneHot < 0 {
		return nil, &OptionError{File: path, Option: "OneHot", Value: fmt.Sprint(opt.OneHot), Msg: "the number of one-hot classes is negative"}
	}
	var x, y *npyArray
	var xname, yname string
	if strings.HasSuffix(strings.ToLower(path), ".npz") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, fmt.Errorf("%s: npz: %w", path, err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			var dst **npyArray
			switch f.Name {
			case "x.npy", "X.npy":
				dst, xname = &x, f.Name
			case "y.npy", "Y.npy":
				dst, yname = &y, f.Name
			default:
				continue
			}
			if *dst != nil {
				return nil, fmt.Errorf("%s: npz: two feature or two target arrays (x and X, or y and Y)", path)
			}
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("%s: npz: %s: %w", path, f.Name, err)
			}
			*dst, err = readNPY(rc, path+":"+f.Name)
			rc.Close()
			if err != nil {
				return nil, err
			}
		}
		if x == nil {
			return nil, fmt.Errorf("%s: npz: no array named x or X (the features)", path)
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		defer f.Close()
		return ReadNPY(f, path, opt)
	}
	return arraysToDataset(path, x, y, xname, yname, opt)
}

// ReadNPY reads a data set from a .npy matrix stream (as LoadNPY does a
// .npy file); name is used in errors.
func ReadNPY(r io.Reader, name string, opt NPYOptions) (*Dataset, error) {
	m, err := readNPY(r, name)
	if err != nil {
		return nil, err
	}
	x, y, err := splitTarget(m, name, opt)
	if err != nil {
		return nil, err
	}
	ds, err := arraysToDataset(name, x, y, "features", "target column", opt)
	if err != nil {
		return nil, err
	}
	if y != nil {
		ds.TargetColumn = (opt.Target + m.shape[1]) % m.shape[1]
	}
	return ds, nil
}

// splitTarget splits a .npy matrix into features and the target column.
func splitTarget(m *npyArray, path string, opt NPYOptions) (x, y *npyArray, err error) {
	if len(m.shape) != 2 {
		return nil, nil, fmt.Errorf("%s: npy: shape %v: want a matrix (points × columns)", path, m.shape)
	}
	n, c := m.shape[0], m.shape[1]
	if opt.NoTarget {
		return m, nil, nil
	}
	t := opt.Target
	if t < 0 {
		t += c
	}
	if t < 0 || t >= c {
		return nil, nil, &OptionError{File: path, Option: "Target", Value: fmt.Sprint(opt.Target), Msg: fmt.Sprintf("column %d is outside the %d columns", opt.Target, c)}
	}
	if c < 2 {
		return nil, nil, fmt.Errorf("%s: npy: %d column: no features besides the target", path, c)
	}
	x = &npyArray{shape: []int{n, c - 1}, kind: m.kind, data: make([]float64, 0, n*(c-1))}
	y = &npyArray{shape: []int{n}, kind: m.kind, data: make([]float64, 0, n)}
	for i := 0; i < n; i++ {
		row := m.data[i*c : (i+1)*c]
		x.data = append(append(x.data, row[:t]...), row[t+1:]...)
		y.data = append(y.data, row[t])
	}
	return x, y, nil
}

// arraysToDataset checks shapes and values and builds the data set.
func arraysToDataset(path string, x, y *npyArray, xname, yname string, opt NPYOptions) (*Dataset, error) {
	oneHot := opt.OneHot
	n := x.shape[0]
	if n == 0 {
		return nil, fmt.Errorf("%s: %s: no rows", path, xname)
	}
	d := 1
	if len(x.shape) == 2 {
		d = x.shape[1]
	}
	if d < 1 || d > MaxFeatures {
		return nil, fmt.Errorf("%s: %s: %d features, want 1 to %d", path, xname, d, MaxFeatures)
	}
	base := filepath.Base(path)
	if ext := strings.ToLower(filepath.Ext(base)); ext == ".npy" || ext == ".npz" {
		base = base[:len(base)-len(ext)]
	}
	ds := &Dataset{Name: base, N: n, D: d, X: make([]float32, n*d)}
	for k, v := range x.data {
		f := float32(v)
		if math.IsNaN(v) || math.IsInf(float64(f), 0) {
			return nil, &ParseError{File: path, Line: k/d + 1, Field: k%d + 1, Name: xname, Msg: fmt.Sprintf("value %g is not finite in float32", v)}
		}
		ds.X[k] = f
	}
	if y == nil {
		if oneHot > 0 || opt.AutoClasses {
			return nil, fmt.Errorf("%s: no targets (an array named y or Y) for the one-hot classes", path)
		}
		ds.TargetColumn = d
		return ds, nil
	}
	if y.shape[0] != n {
		return nil, fmt.Errorf("%s: %s has %d rows, %s %d", path, yname, y.shape[0], xname, n)
	}
	o := 1
	if len(y.shape) == 2 {
		o = y.shape[1]
	}
	if oneHot > 0 || opt.AutoClasses {
		if o != 1 {
			return nil, fmt.Errorf("%s: %s: one-hot classes need one label column, not %d", path, yname, o)
		}
		cc := newAutoClassCollector()
		if oneHot > 0 {
			cc = newClassCollector(oneHot)
		}
		for i, v := range y.data {
			if v != math.Trunc(v) || math.IsInf(v, 0) {
				return nil, &ParseError{File: path, Line: i + 1, Field: 1, Name: yname, Msg: fmt.Sprintf("class label %g is not an integer", v)}
			}
			if msg := cc.add(v, i+1); msg != "" {
				return nil, &ParseError{File: path, Line: i + 1, Field: 1, Name: yname, Msg: msg}
			}
		}
		if msg := cc.sizeError(); msg != "" {
			return nil, fmt.Errorf("%s: %s", path, msg)
		}
		ds.Y, ds.Classes = cc.expand()
		ds.O = len(ds.Classes)
		if err := ds.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return ds, nil
	}
	if o < 1 || o > MaxFeatures {
		return nil, fmt.Errorf("%s: %s: %d targets, want 1 to %d", path, yname, o, MaxFeatures)
	}
	ds.O = o
	ds.Y = make([]float32, n*o)
	for k, v := range y.data {
		f := float32(v)
		if math.IsNaN(v) || math.IsInf(float64(f), 0) {
			return nil, &ParseError{File: path, Line: k/o + 1, Field: k%o + 1, Name: yname, Msg: fmt.Sprintf("value %g is not finite in float32", v)}
		}
		ds.Y[k] = f
	}
	if err := ds.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
}

// WriteNPY writes a float32 matrix (rows × cols, row-major) as a version
// 1.0 .npy stream, as numpy.save does.
func WriteNPY(w io.Writer, rows, cols int, v []float32) error {
	if len(v) != rows*cols {
		return fmt.Errorf("npy: %d values for shape (%d, %d)", len(v), rows, cols)
	}
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	pad := 64 - (10+len(h)+1)%64
	h += strings.Repeat(" ", pad%64) + "\n"
	buf := []byte(npyMagic + "\x01\x00")
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(h)))
	buf = append(buf, h...)
	for _, x := range v {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
	}
	_, err := w.Write(buf)
	return err
}

// isNPY says whether a path names a .npy or .npz file.
func isNPY(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".npy" || ext == ".npz"
}

// loadNPYLike is Load for .npy and .npz files: the CSV options' target
// column (GuessTarget: the last column), NoTarget and one-hot classes (the
// LIBSVM options' when the CSV ones have none) apply; an .npz's y array is
// read even with NoTarget, as LIBSVM's labels are.
func loadNPYLike(path string, csv CSVOptions, svm LIBSVMOptions) (*Dataset, error) {
	npz := strings.HasSuffix(strings.ToLower(path), ".npz")
	switch {
	case npz && (csv.TargetName == "y" || csv.TargetName == "Y"):
		csv.TargetName = "" // the y array, as always
	case npz && csv.TargetName != "":
		return nil, &OptionError{File: path, Option: "Target", Value: csv.TargetName, Msg: "the targets of an .npz file are its array y (or Y): it has no columns to name"}
	case csv.TargetName != "":
		return nil, &OptionError{File: path, Option: "Target", Value: csv.TargetName, Msg: "a .npy matrix has no column names: give the target column as an index"}
	}
	opt := NPYOptions{Target: csv.Target, NoTarget: csv.NoTarget, OneHot: csv.OneHot, AutoClasses: csv.AutoClasses || svm.AutoClasses}
	if csv.GuessTarget {
		opt.Target = -1
	}
	if opt.OneHot == 0 {
		opt.OneHot = svm.OneHot
	}
	if npz {
		opt.NoTarget = false
	} else if opt.NoTarget {
		opt.OneHot, opt.AutoClasses = 0, false // a plain matrix: the caller maps its columns
	}
	d, err := LoadNPY(path, opt)
	if err != nil {
		return nil, err
	}
	if csv.MaxRows > 0 && d.N > csv.MaxRows {
		d.N = csv.MaxRows
		d.X, d.Y = d.X[:d.N*d.D], d.Y[:d.N*d.O]
	}
	return d, nil
}
