package data

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseError reports malformed input. It names the file, the 1-based line
// and the 1-based field (column) and says what was wrong.
type ParseError struct {
	File  string // file path or the name given to a Read function
	Line  int    // 1-based line; 0 if unknown
	Row   int    // 1-based data row, for formats without lines (Parquet); 0 if none
	Field int    // 1-based field; 0 if the error concerns the whole line
	Name  string // column name if known (CSV header), "label" for a LIBSVM label
	Msg   string // what was wrong, including the offending text
	Err   error  // underlying error, if any (e.g. strconv.ErrRange)
}

// Error formats the error as
//
//	file.csv:12: field 3 ("age"): not a number: "x1"
//	file.parquet: row 12: field 3 ("age"): null value
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Row > 0 {
		fmt.Fprintf(&b, "row %d: ", e.Row)
	}
	if e.Field > 0 {
		fmt.Fprintf(&b, "field %d", e.Field)
		if e.Name != "" {
			fmt.Fprintf(&b, " (%s)", strconv.Quote(e.Name))
		}
		b.WriteString(": ")
	}
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	b.WriteString(msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// quoteValue quotes s for an error message, shortening very long values.
func quoteValue(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// errNonFinite is the underlying error for NaN and Inf values.
var errNonFinite = errors.New("non-finite value")

// parseValue parses one numeric field as float32. On failure it returns a
// message for a ParseError and the underlying error.
func parseValue(s string) (float32, string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, "empty field", nil
	}
	v, err := strconv.ParseFloat(t, 32)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, "value " + quoteValue(t) + " overflows float32", strconv.ErrRange
		}
		return 0, "not a number: " + quoteValue(t), strconv.ErrSyntax
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, "non-finite value " + quoteValue(t) + " not allowed", errNonFinite
	}
	return float32(v), "", nil
}

// parseClassLabel parses an integer class label (e.g. "3", "-1", "+1",
// "2.0") as float64.
func parseClassLabel(s string) (float64, string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, "empty class label", nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, "class label " + quoteValue(t) + " out of range", strconv.ErrRange
		}
		return 0, "class label is not a number: " + quoteValue(t), strconv.ErrSyntax
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, "non-finite class label " + quoteValue(t) + " not allowed", errNonFinite
	}
	if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return 0, "class label " + quoteValue(t) + " is not an integer", nil
	}
	return v, "", nil
}

// OptionError reports an option whose value does not fit the input (or is
// invalid), e.g. a target column beyond the last column. Option is the
// name of the CSVOptions or LIBSVMOptions field, so that a command line
// can restate the error in terms of its own flag; Error speaks of the
// option in words.
type OptionError struct {
	File   string // file path or the name given to a Read function
	Line   int    // 1-based line; 0 if none
	Option string // the options field: "Target", "Targets", "OneHot", "MaxRows", "Header", "Comma", "Features"
	Value  string // its value as given
	Msg    string // what is wrong, in words
}

// Error formats the error as "file:line: msg".
func (e *OptionError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}
