package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// HeaderMode says whether the first row of a CSV file is a header.
type HeaderMode int

const (
	// HeaderAuto treats the first row as a header if any non-empty field of
	// it is not syntactically a number. "NaN" and "Inf" count as numbers
	// here (so a data row holding them is rejected, not silently skipped);
	// a header made only of numeric-looking names needs HeaderYes.
	HeaderAuto HeaderMode = iota
	// HeaderYes: the first row is a header.
	HeaderYes
	// HeaderNo: the first row is data.
	HeaderNo
)

// String returns "auto", "yes" or "no".
func (m HeaderMode) String() string {
	switch m {
	case HeaderAuto:
		return "auto"
	case HeaderYes:
		return "yes"
	case HeaderNo:
		return "no"
	}
	return "HeaderMode(" + strconv.Itoa(int(m)) + ")"
}

// CSVOptions configure LoadCSV and ReadCSV. The zero value reads the
// YearPredictionMSD layout: no header (auto-detected), target in column 0,
// features in the remaining columns, comma-separated.
type CSVOptions struct {
	// Target is the 0-based target column; negative counts from the end
	// (-1 = last). Default 0.
	Target int
	// Targets is the number of consecutive target columns starting at
	// Target (0 or 1 = one).
	Targets int
	// Header says whether the first row is a header (default HeaderAuto).
	Header HeaderMode
	// Comma is the field delimiter; 0 means ','. Any delimiter that
	// encoding/csv accepts works, e.g. ';', '\t', '|'.
	Comma rune
	// OneHot, if > 0, means the single target column holds integer class
	// labels, mapped in sorted order to 0..OneHot-1 and expanded into
	// OneHot outputs. More than OneHot distinct labels is an error.
	OneHot int
	// AutoClasses with OneHot 0 means the target column holds class
	// labels with one output per distinct label (at most MaxClasses). Load
	// reads such files as tables, where labels may be any text (see
	// TableOptions); ReadCSV accepts integer labels only.
	AutoClasses bool
	// MaxRows limits the number of data rows read; 0 = all.
	MaxRows int
	// TargetName, if set, chooses the (first) target column by its header
	// name instead of Target; the file must have a header.
	TargetName string
	// GuessTarget, for a file with a header and no TargetName, chooses the
	// target column by name: the one column called y, target, label or
	// class (any case, see TargetGuesses); none or several is an error.
	// Without a header Target is used.
	GuessTarget bool
	// NoTarget reads every column as a feature (O = 0, no targets).
	NoTarget bool
	// Features, if not nil, are the feature columns, by header name or
	// 0-based index, in this order (default: every column but the
	// targets). Load reads a file with Features as a table.
	Features []string
	// Categorical one-hot encodes text feature columns (see
	// Table.Dataset); without it they are refused with an OptionError
	// (Option "Categorical"). Load reads a file with Categorical as a table.
	Categorical bool
}

// TargetGuesses are the column names GuessTarget recognises as the target.
var TargetGuesses = []string{"y", "target", "label", "class"}

// targetValue is the target option as given, for an OptionError.
func (opt CSVOptions) targetValue() string {
	if opt.TargetName != "" {
		return opt.TargetName
	}
	return strconv.Itoa(opt.Target)
}

// targetColumn resolves the first target column of a file with ncols
// columns and the given header (nil if none).
func targetColumn(opt CSVOptions, header []string, ncols, nTargets int) (int, error) {
	var t int
	switch {
	case opt.TargetName != "":
		if header == nil {
			return 0, fmt.Errorf("a target column named %q needs a header row, and the file has none", opt.TargetName)
		}
		t = slices.Index(header, opt.TargetName)
		if t < 0 {
			for i, h := range header {
				if strings.EqualFold(h, opt.TargetName) {
					t = i
					break
				}
			}
		}
		if t < 0 {
			return 0, fmt.Errorf("no column is named %q; the columns are %s", opt.TargetName, listNames(header))
		}
	case opt.GuessTarget && header != nil:
		var found []int
		for i, h := range header {
			for _, g := range TargetGuesses {
				if strings.EqualFold(h, g) {
					found = append(found, i)
				}
			}
		}
		if len(found) != 1 {
			what := "no column is"
			if len(found) > 1 {
				what = fmt.Sprintf("%d columns are", len(found))
			}
			return 0, fmt.Errorf("the target column must be given: the file has a header and %s named %s; the columns are %s",
				what, strings.Join(TargetGuesses, ", "), listNames(header))
		}
		t = found[0]
	default:
		t = opt.Target
		if t < 0 {
			t += ncols
		}
	}
	if t < 0 || t+nTargets > ncols {
		if nTargets == 1 {
			return 0, fmt.Errorf("column %s is outside the %d columns (0..%d, or -%d..-1 counting from the end)",
				opt.targetValue(), ncols, ncols-1, ncols)
		}
		return 0, fmt.Errorf("%d target columns from column %s do not fit in the %d columns", nTargets, opt.targetValue(), ncols)
	}
	return t, nil
}

// listNames lists column names for a message, with their indices,
// shortened when there are many.
func listNames(names []string) string {
	return shortList(len(names), 8, ", ", func(i int) string { return strconv.Itoa(i) + " " + strconv.Quote(names[i]) })
}

// shortList joins item(0..n-1) with sep, cut after show items (and "...
// (k more)") when more than two would be left out.
func shortList(n, show int, sep string, item func(int) string) string {
	var b strings.Builder
	for i := range n {
		if i == show && n > show+2 {
			fmt.Fprintf(&b, "%s... (%d more)", sep, n-i)
			break
		}
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(item(i))
	}
	return b.String()
}

// LoadCSV reads a delimited text file. Errors name the path. Compressed
// files are not decompressed here; use Load for that.
func LoadCSV(path string, opt CSVOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	d, err := readCSV(f, path, opt, size)
	if d != nil {
		d.Name = datasetName(path)
	}
	return d, err
}

// ReadCSV reads delimited text from r. name is used in error messages and
// as the dataset name.
func ReadCSV(r io.Reader, name string, opt CSVOptions) (*Dataset, error) {
	return readCSV(r, name, opt, 0)
}

// readCSV is ReadCSV with a hint of the input size in bytes (0 = unknown),
// used to preallocate.
func readCSV(r io.Reader, name string, opt CSVOptions, sizeHint int64) (*Dataset, error) {
	comma := opt.Comma
	if comma == 0 {
		comma = ','
	}
	if comma == '\r' || comma == '\n' || comma == '"' || comma == utf8.RuneError || !utf8.ValidRune(comma) {
		return nil, fmt.Errorf("%s: invalid CSV delimiter %q", name, comma)
	}
	optErr := func(line int, option string, value any, msg string) error {
		return &OptionError{File: name, Line: line, Option: option, Value: fmt.Sprint(value), Msg: msg}
	}
	if opt.Targets < 0 {
		return nil, optErr(0, "Targets", opt.Targets, fmt.Sprintf("the number of target columns %d is negative", opt.Targets))
	}
	if opt.OneHot < 0 {
		return nil, optErr(0, "OneHot", opt.OneHot, fmt.Sprintf("the number of one-hot classes %d is negative", opt.OneHot))
	}
	if opt.NoTarget && opt.OneHot > 0 {
		return nil, optErr(0, "OneHot", opt.OneHot, "one-hot classes need a target column")
	}
	if (opt.OneHot > 0 || opt.AutoClasses) && opt.Targets > 1 {
		return nil, optErr(0, "OneHot", opt.OneHot, fmt.Sprintf("one-hot classes need a single target column, not %d", opt.Targets))
	}
	if opt.MaxRows < 0 {
		return nil, optErr(0, "MaxRows", opt.MaxRows, fmt.Sprintf("the row limit %d is negative", opt.MaxRows))
	}
	if opt.Header < HeaderAuto || opt.Header > HeaderNo {
		return nil, optErr(0, "Header", opt.Header, fmt.Sprintf("invalid header mode %v", opt.Header))
	}
	nTargets := max(opt.Targets, 1)

	cr, err := newCSVReader(r, name, comma, MaxFeatures+nTargets)
	if err != nil {
		return nil, err
	}

	var (
		ncols, firstLine int
		tFirst           int // first target column
		header           []string
		x, y             []float32
		classes          *classCollector
		rows             int
		sawRecord        bool
		firstOffsetDone  bool
		d                int
		fieldErr         = func(line, field int, msg string, err error) error {
			pe := &ParseError{File: name, Line: line, Field: field, Msg: msg, Err: err}
			if header != nil && field >= 1 && field <= len(header) {
				pe.Name = header[field-1]
			}
			return pe
		}
	)
	if opt.OneHot > 0 {
		classes = newClassCollector(opt.OneHot)
	} else if opt.AutoClasses && !opt.NoTarget {
		classes = newAutoClassCollector()
	}

	for opt.MaxRows == 0 || rows < opt.MaxRows {
		rec, line, err := nextRecord(cr, name)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}

		if !sawRecord {
			sawRecord = true
			ncols, firstLine = len(rec), line
			if ncols == 1 && !opt.NoTarget {
				if hint := separatorHint(rec[0], comma); hint != "" {
					return nil, optErr(line, "Comma", string(comma), fmt.Sprintf("the line is one column when split by %s, but %s", sepName(comma), hint))
				}
			}
			isHeader := isHeaderRow(rec, opt.Header)
			if isHeader {
				header = make([]string, ncols)
				for i, f := range rec {
					header[i] = strings.TrimSpace(f)
				}
			}
			if opt.NoTarget {
				tFirst, nTargets = ncols, 0
			} else if tFirst, err = targetColumn(opt, header, ncols, nTargets); err != nil {
				return nil, optErr(line, "Target", opt.targetValue(), err.Error())
			}
			d = ncols - nTargets
			if d == 0 {
				return nil, fmt.Errorf("%s:%d: no feature columns: %d columns, all of them targets", name, line, ncols)
			}
			if isHeader {
				continue
			}
		} else if len(rec) != ncols {
			return nil, &ParseError{File: name, Line: line,
				Msg: fmt.Sprintf("has %d fields, want %d (as on line %d)", len(rec), ncols, firstLine)}
		}

		// Preallocate from the size of the first data row.
		if !firstOffsetDone {
			firstOffsetDone = true
			capRows := max(1, min(1024, maxPreallocValues/ncols))
			if sizeHint > 0 {
				if rowBytes := cr.InputOffset(); rowBytes > 0 {
					capRows = int(min(sizeHint/rowBytes*21/20+16, sizeHint/int64(2*ncols)+1))
				}
			}
			if opt.MaxRows > 0 {
				capRows = min(capRows, opt.MaxRows)
			}
			capRows = min(capRows, math.MaxInt32/max(d, 1))
			x = make([]float32, 0, capRows*d)
			if classes == nil {
				y = make([]float32, 0, capRows*nTargets)
			}
		}

		base := len(x)
		x = slices.Grow(x, d)[:base+d]
		k := base
		for j, f := range rec {
			if j >= tFirst && j < tFirst+nTargets {
				continue
			}
			v, msg, err := parseValue(f)
			if msg != "" {
				fl, _ := cr.FieldPos(j)
				return nil, fieldErr(fl, j+1, msg, err)
			}
			x[k] = v
			k++
		}
		for j := tFirst; j < tFirst+nTargets; j++ {
			fl, _ := cr.FieldPos(j)
			if classes != nil {
				v, msg, err := parseClassLabel(rec[j])
				if msg != "" {
					return nil, fieldErr(fl, j+1, msg, err)
				}
				if msg := classes.add(v, fl); msg != "" {
					return nil, fieldErr(fl, j+1, msg, nil)
				}
				continue
			}
			v, msg, err := parseValue(rec[j])
			if msg != "" {
				return nil, fieldErr(fl, j+1, msg, err)
			}
			y = append(y, v)
		}
		rows++
	}

	if !sawRecord {
		return nil, fmt.Errorf("%s: empty file: no rows", name)
	}
	if rows == 0 {
		return nil, fmt.Errorf("%s: no data rows after the header on line %d", name, firstLine)
	}
	ds := &Dataset{Name: name, N: rows, D: d, O: nTargets, X: x, Y: y, TargetColumn: tFirst}
	if classes != nil {
		if msg := classes.sizeError(); msg != "" {
			return nil, fmt.Errorf("%s: %s", name, msg)
		}
		ds.Y, ds.Classes = classes.expand()
		ds.O = len(ds.Classes)
	}
	if header != nil {
		ds.FeatureNames = make([]string, 0, d)
		for j, h := range header {
			if j < tFirst || j >= tFirst+nTargets {
				ds.FeatureNames = append(ds.FeatureNames, h)
			}
		}
		if classes != nil {
			for _, c := range ds.Classes {
				ds.TargetNames = append(ds.TargetNames, header[tFirst]+"="+strconv.FormatFloat(c, 'g', -1, 64))
			}
		} else {
			ds.TargetNames = append([]string(nil), header[tFirst:tFirst+nTargets]...)
		}
	}
	return ds, nil
}

// isHeaderRow says whether rec, the first row of a file, is a header under
// mode (see HeaderAuto).
func isHeaderRow(rec []string, mode HeaderMode) bool {
	if mode != HeaderAuto {
		return mode == HeaderYes
	}
	for _, f := range rec {
		t := strings.TrimSpace(f)
		if t == "" {
			continue
		}
		if _, err := strconv.ParseFloat(t, 64); errors.Is(err, strconv.ErrSyntax) {
			return true
		}
	}
	return false
}

// newCSVReader reads r (named name) as CSV records of at most maxFields
// fields, after a byte-order mark if any.
func newCSVReader(r io.Reader, name string, comma rune, maxFields int) (*csv.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if err := skipBOM(br); err != nil {
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	cr := csv.NewReader(newFieldLimiter(br, comma, maxFields))
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // we check the count ourselves, with a better message
	cr.ReuseRecord = true
	return cr, nil
}

// nextRecord reads the next record that is not blank (a line holding
// only spaces is as good as blank) and its line; io.EOF at the end.
func nextRecord(cr *csv.Reader, name string) ([]string, int, error) {
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil, 0, err
		}
		if err != nil {
			return nil, 0, csvReadError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		return rec, line, nil
	}
}

// csvReadError turns an error of a reader from newCSVReader into one
// naming the file and line.
func csvReadError(name string, err error) error {
	if le := (*limitError)(nil); errors.As(err, &le) {
		return &ParseError{File: name, Line: le.line, Msg: le.msg}
	}
	var ce *csv.ParseError
	if errors.As(err, &ce) {
		return &ParseError{File: name, Line: ce.Line,
			Msg: fmt.Sprintf("malformed CSV at column %d: %v", ce.Column, ce.Err), Err: err}
	}
	return fmt.Errorf("%s: read: %w", name, err)
}
