package data

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ReadCSVTable reads delimited text from r as a Table; name is used in
// errors. Of opt it uses Header, Comma and MaxRows. A column is numeric
// while every value of it parses as a number, text from its first value
// that does not (then its earlier numbers are kept as text too, in LabelKey
// form). An empty field is an error, as in ReadCSV: there are no missing
// values. The table holds the values as float64 or strings until
// Table.Dataset or Encoding.Apply makes the float32 matrix, so reading a
// file this way takes about three times the memory of ReadCSV.
func ReadCSVTable(r io.Reader, name string, opt CSVOptions) (*Table, error) {
	comma := opt.Comma
	if comma == 0 {
		comma = ','
	}
	if opt.MaxRows < 0 {
		return nil, &OptionError{File: name, Option: "MaxRows", Value: strconv.Itoa(opt.MaxRows), Msg: fmt.Sprintf("the row limit %d is negative", opt.MaxRows)}
	}
	cr, err := newCSVReader(r, name, comma, MaxFeatures+1)
	if err != nil {
		return nil, err
	}
	t := &Table{Path: name, lines: []int{}}
	intern := map[string]string{}
	firstLine := 0
	for opt.MaxRows == 0 || t.N < opt.MaxRows {
		rec, line, err := nextRecord(cr, name)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if t.cols == nil {
			firstLine = line
			t.cols = make([]tableColumn, len(rec))
			for c := range t.cols {
				t.cols[c].firstText = -1
			}
			if isHeaderRow(rec, opt.Header) {
				t.Names = make([]string, len(rec))
				for i, f := range rec {
					t.Names[i] = strings.TrimSpace(f)
				}
				continue
			}
		} else if len(rec) != len(t.cols) {
			return nil, &ParseError{File: name, Line: line,
				Msg: fmt.Sprintf("has %d fields, want %d (as on line %d)", len(rec), len(t.cols), firstLine)}
		}
		if t.N == MaxValues/len(t.cols) {
			return nil, fmt.Errorf("%s:%d: more than %d values (rows × columns)", name, line, MaxValues)
		}
		for c, f := range rec {
			col := &t.cols[c]
			s := strings.TrimSpace(f)
			if s == "" {
				fl, _ := cr.FieldPos(c)
				pe := &ParseError{File: name, Line: fl, Field: c + 1, Msg: "empty field"}
				if t.Names != nil {
					pe.Name = t.Names[c]
				}
				return nil, pe
			}
			if col.text == nil {
				if v, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
					f, _ := strconv.ParseFloat(s, 32)
					col.num = append(col.num, v)
					col.f32 = append(col.f32, float32(f))
					continue
				}
				col.firstText = t.N
				col.text = make([]string, len(col.num), cap(col.num))
				for r, v := range col.num {
					col.text[r] = strconv.FormatFloat(v, 'g', -1, 64)
				}
				col.num, col.f32 = nil, nil
			}
			if is, ok := intern[s]; ok {
				s = is
			} else if len(intern) < 1<<16 {
				s = strings.Clone(s)
				intern[s] = s
			} else {
				s = strings.Clone(s)
			}
			col.text = append(col.text, s)
		}
		t.lines = append(t.lines, line)
		t.N++
	}
	if t.cols == nil {
		return nil, fmt.Errorf("%s: empty file: no rows", name)
	}
	if t.N == 0 {
		return nil, fmt.Errorf("%s: no data rows after the header on line %d", name, firstLine)
	}
	return t, nil
}
