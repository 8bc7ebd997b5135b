package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A Table is a data file read column by column before it becomes a
// Dataset: CSV (Load with a Features, Categorical or class-label option)
// and Parquet files are read this way, so that columns can be chosen by
// name, text columns one-hot encoded and class labels be any text. Every
// column is numeric (float64) or text.
type Table struct {
	Path  string
	N     int      // rows
	Names []string // column names (header or schema); nil without a header
	cols  []tableColumn
	lines []int // CSV: the 1-based line of each row; nil: rows are counted (Parquet)
}

type tableColumn struct {
	num []float64 // a numeric column's values (text == nil)
	// f32, if not nil, holds num's values as parsed straight to float32
	// (CSV: as ReadCSV does; rounding through float64 could differ).
	f32  []float32
	text []string // a text column's values, trimmed
	// firstText is the first row holding text that is not a number (−1
	// if none), for the message refusing a text column.
	firstText int
}

// Columns is the number of columns.
func (t *Table) Columns() int { return len(t.cols) }

// errAt is a ParseError at row r (0-based) and column c (0-based).
func (t *Table) errAt(r, c int, msg string) error {
	pe := &ParseError{File: t.Path, Field: c + 1, Msg: msg}
	if t.lines != nil {
		pe.Line = t.lines[r]
	} else {
		pe.Row = r + 1
	}
	if t.Names != nil {
		pe.Name = t.Names[c]
	}
	return pe
}

// colName names column c for a message: its name, or its index.
func (t *Table) colName(c int) string {
	if t.Names != nil {
		return strconv.Quote(t.Names[c])
	}
	return "column " + strconv.Itoa(c)
}

// key is the category or class key of row r of column c (see LabelKey).
func (t *Table) key(r, c int) string {
	col := &t.cols[c]
	if col.text != nil {
		return LabelKey(col.text[r])
	}
	return strconv.FormatFloat(col.num[r], 'g', -1, 64)
}

// LabelKey is the canonical form of a class label or category: a value
// that parses as a number is compared as that number (1, 1.0 and +1 are
// the same label, written "1"), any other text as its trimmed self.
func LabelKey(s string) string {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return s
}

// SortLabels sorts keys (as LabelKey writes them) the way classes and
// categories are numbered: numeric labels first, in numeric order, then the
// others in byte order.
func SortLabels(keys []string) {
	slices.SortFunc(keys, func(a, b string) int {
		va, ea := strconv.ParseFloat(a, 64)
		vb, eb := strconv.ParseFloat(b, 64)
		switch {
		case ea == nil && eb == nil:
			if va < vb {
				return -1
			} else if va > vb {
				return 1
			}
			return 0
		case ea == nil:
			return -1
		case eb == nil:
			return 1
		}
		return strings.Compare(a, b)
	})
}

// Encoding says how a table's columns become a Dataset's features and
// targets. Training learns it from its data (Table.Dataset); evaluation
// applies the same one to other files (Encoding.Apply). It is plain data,
// stored in model.json.
type Encoding struct {
	// Columns is the number of columns of the training file.
	Columns int `json:"columns"`
	// Features are the feature columns in feature order.
	Features []EncodedColumn `json:"features"`
	// Targets are the target columns (none: no targets).
	Targets []EncodedColumn `json:"targets,omitempty"`
	// Classes, for a classifier, are the class labels (LabelKey form) of
	// the outputs in order: sorted as SortLabels does.
	Classes []string `json:"classes,omitempty"`
}

// EncodedColumn is one column of an Encoding.
type EncodedColumn struct {
	Name  string `json:"name,omitempty"` // header name; "" without a header
	Index int    `json:"index"`          // 0-based column in the training file
	// Categories, for a one-hot encoded feature column, are its categories
	// (LabelKey form, sorted as SortLabels does): one feature each.
	Categories []string `json:"categories,omitempty"`
}

// width is the number of features the column becomes.
func (c EncodedColumn) width() int { return max(1, len(c.Categories)) }

// Dataset learns the encoding that opt asks for from t and applies it.
// Of opt it uses Target, Targets, TargetName, GuessTarget, NoTarget,
// OneHot, AutoClasses, Features and Categorical.
//
// A text feature column is one-hot encoded with opt.Categorical (one
// feature per category, "column=category", in SortLabels order) and
// refused without it. With OneHot or AutoClasses the target holds class
// labels, numbers or any text, numbered in SortLabels order.
func (t *Table) Dataset(opt CSVOptions) (*Dataset, *Encoding, error) {
	optErr := func(option, value, msg string) error {
		return &OptionError{File: t.Path, Option: option, Value: value, Msg: msg}
	}
	if opt.Targets < 0 || opt.OneHot < 0 {
		return nil, nil, optErr("Targets", fmt.Sprint(opt.Targets, opt.OneHot), "negative number of targets or classes")
	}
	classes := opt.OneHot > 0 || opt.AutoClasses
	nT := max(opt.Targets, 1)
	if classes && nT > 1 {
		return nil, nil, optErr("OneHot", fmt.Sprint(opt.OneHot), fmt.Sprintf("class labels need a single target column, not %d", nT))
	}
	ncols := len(t.cols)
	enc := &Encoding{Columns: ncols}
	isTarget := make([]bool, ncols)
	if !opt.NoTarget {
		tf, err := targetColumn(opt, t.Names, ncols, nT)
		if err != nil {
			return nil, nil, optErr("Target", opt.targetValue(), err.Error())
		}
		for c := tf; c < tf+nT; c++ {
			isTarget[c] = true
			enc.Targets = append(enc.Targets, t.encoded(c))
		}
	}
	var feats []int
	if opt.Features != nil {
		seen := map[int]bool{}
		for _, name := range opt.Features {
			c, err := t.column(name)
			if err != nil {
				return nil, nil, optErr("Features", name, err.Error())
			}
			if isTarget[c] {
				return nil, nil, optErr("Features", name, fmt.Sprintf("%s is the target column", t.colName(c)))
			}
			if seen[c] {
				return nil, nil, optErr("Features", name, fmt.Sprintf("%s is named twice", t.colName(c)))
			}
			seen[c] = true
			feats = append(feats, c)
		}
	} else {
		for c := range ncols {
			if !isTarget[c] {
				feats = append(feats, c)
			}
		}
	}
	if len(feats) == 0 {
		return nil, nil, fmt.Errorf("%s: no feature columns: %d columns, all of them targets", t.Path, ncols)
	}
	width := 0
	for _, c := range feats {
		ec := t.encoded(c)
		col := &t.cols[c]
		if col.text != nil {
			if !opt.Categorical {
				r := col.firstText
				return nil, nil, &OptionError{File: t.Path, Option: "Categorical", Value: "refuse",
					Msg: fmt.Sprintf("%s holds text (%s, %s), not numbers: a categorical column", t.colName(c), quoteValue(col.text[r]), t.where(r))}
			}
			ec.Categories = t.distinct(c, MaxFeatures)
			if ec.Categories == nil {
				return nil, nil, fmt.Errorf("%s: %s has more than %d distinct categories", t.Path, t.colName(c), MaxFeatures)
			}
		}
		width += ec.width()
		if width > MaxFeatures {
			return nil, nil, fmt.Errorf("%s: more than %d features after one-hot encoding (at %s)", t.Path, MaxFeatures, t.colName(c))
		}
		enc.Features = append(enc.Features, ec)
	}
	for _, tc := range enc.Targets {
		if col := &t.cols[tc.Index]; !classes && col.text != nil {
			r := col.firstText
			return nil, nil, fmt.Errorf("%s: the target %s holds text (%s, %s), not numbers: class labels need OneHot or AutoClasses (ntklsh train: --loss xent, or --onehot K)",
				t.Path, t.colName(tc.Index), quoteValue(col.text[r]), t.where(r))
		}
	}
	if classes && len(enc.Targets) == 1 {
		c := enc.Targets[0].Index
		limit := MaxClasses
		if opt.OneHot > 0 {
			limit = opt.OneHot
		}
		keys := t.distinct(c, limit)
		if keys == nil {
			return nil, nil, optErr("OneHot", fmt.Sprint(opt.OneHot), fmt.Sprintf("%s holds more than %d distinct class labels", t.colName(c), limit))
		}
		for r := range t.N {
			k := t.key(r, c)
			if v, err := strconv.ParseFloat(k, 64); err == nil && (v != math.Trunc(v) || math.IsInf(v, 0)) {
				return nil, nil, t.errAt(r, c, "class label "+quoteValue(k)+" is not an integer")
			}
		}
		enc.Classes = padClasses(keys, opt.OneHot)
	}
	d, err := enc.apply(t, false, true)
	if err != nil {
		return nil, nil, err
	}
	return d, enc, nil
}

// where names row r for a message: its line, or its row number.
func (t *Table) where(r int) string {
	if t.lines != nil {
		return "line " + strconv.Itoa(t.lines[r])
	}
	return "row " + strconv.Itoa(r+1)
}

// encoded is column c as an EncodedColumn without categories.
func (t *Table) encoded(c int) EncodedColumn {
	ec := EncodedColumn{Index: c}
	if t.Names != nil {
		ec.Name = t.Names[c]
	}
	return ec
}

// column finds a column by name (exactly, else ignoring case) or, if
// name is an integer, by 0-based index. The error lists the columns.
func (t *Table) column(name string) (int, error) {
	if t.Names != nil {
		if c := slices.Index(t.Names, name); c >= 0 {
			return c, nil
		}
		for c, n := range t.Names {
			if strings.EqualFold(n, name) {
				return c, nil
			}
		}
	}
	if c, err := strconv.Atoi(name); err == nil && c >= 0 && c < len(t.cols) {
		return c, nil
	}
	if t.Names == nil {
		return 0, fmt.Errorf("no column %q: the file has no header, give 0-based column indices 0..%d", name, len(t.cols)-1)
	}
	return 0, fmt.Errorf("no column is named %q; the columns are %s", name, listNames(t.Names))
}

// distinct returns the sorted distinct keys of column c, or nil if there
// are more than limit.
func (t *Table) distinct(c, limit int) []string {
	seen := map[string]bool{}
	for r := range t.N {
		k := t.key(r, c)
		if !seen[k] {
			if len(seen) == limit {
				return nil
			}
			seen[k] = true
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	SortLabels(keys)
	return keys
}

// padClasses pads the sorted labels to k classes (k ≤ len: none) with
// placeholders that never fire: max+1, max+2, ... when the labels are all
// numbers (as one-hot CSV classes are), "unused-1", ... otherwise.
func padClasses(keys []string, k int) []string {
	if k <= len(keys) {
		return keys
	}
	nums := numericLabels(keys)
	next := 0.0
	if nums != nil && len(nums) > 0 {
		next = nums[len(nums)-1] + 1
	}
	for i := 1; len(keys) < k; i++ {
		if nums != nil {
			keys = append(keys, strconv.FormatFloat(next, 'g', -1, 64))
			next++
		} else {
			keys = append(keys, "unused-"+strconv.Itoa(i))
		}
	}
	return keys
}

// numericLabels returns the labels as numbers, or nil if any is not one.
func numericLabels(keys []string) []float64 {
	out := make([]float64, len(keys))
	for i, k := range keys {
		v, err := strconv.ParseFloat(k, 64)
		if err != nil {
			return nil
		}
		out[i] = v
	}
	return out
}

// Apply turns t into a Dataset with e's features (and targets, when t has
// the target columns; needTargets makes their absence an error). Columns
// are matched by name when both t and e have names, by position
// otherwise: t then has e.Columns columns, or that less the targets (left
// out). A category or class label that e does not know is an error naming
// the file, row, column and value.
func (e *Encoding) Apply(t *Table, needTargets bool) (*Dataset, error) {
	return e.apply(t, needTargets, false)
}

// apply is Apply; byPosition matches the columns by position (the table
// the encoding was learnt from).
func (e *Encoding) apply(t *Table, needTargets, byPosition bool) (*Dataset, error) {
	feats, targs, err := e.match(t, byPosition)
	if err != nil {
		return nil, err
	}
	if needTargets && targs == nil {
		return nil, fmt.Errorf("%s has no target column (%s): the targets are needed", t.Path, e.targetDesc())
	}
	D := 0
	for _, c := range e.Features {
		D += c.width()
	}
	O := len(targs)
	if e.Classes != nil && targs != nil {
		O = len(e.Classes)
	}
	if t.N < 1 {
		return nil, fmt.Errorf("%s: no data rows", t.Path)
	}
	if t.N > MaxValues/max(D, O, 1) {
		return nil, fmt.Errorf("%s: %d rows × %d columns is more than the %d values allowed", t.Path, t.N, max(D, O), MaxValues)
	}
	d := &Dataset{Name: datasetName(t.Path), N: t.N, D: D, O: O, X: make([]float32, t.N*D), Y: make([]float32, t.N*O)}
	if len(e.Targets) > 0 {
		d.TargetColumn = e.Targets[0].Index
	} else {
		d.TargetColumn = e.Columns
	}
	off := 0
	for j, ec := range e.Features {
		c := feats[j]
		if ec.Categories != nil {
			idx := indexOf(ec.Categories)
			for r := range t.N {
				k, ok := idx[t.key(r, c)]
				if !ok {
					return nil, t.errAt(r, c, fmt.Sprintf("category %s was not seen in training (the categories are %s)", quoteValue(t.key(r, c)), listValues(ec.Categories)))
				}
				d.X[r*D+off+k] = 1
			}
		} else if err := t.numbers(c, d.X[off:], D); err != nil {
			return nil, err
		}
		off += ec.width()
	}
	switch {
	case targs == nil:
		d.Y = nil
	case e.Classes != nil:
		idx := indexOf(e.Classes)
		c := targs[0]
		for r := range t.N {
			k, ok := idx[t.key(r, c)]
			if !ok {
				return nil, t.errAt(r, c, fmt.Sprintf("class label %s was not among the training classes %s", quoteValue(t.key(r, c)), listValues(e.Classes)))
			}
			d.Y[r*O+k] = 1
		}
		if nums := numericLabels(e.Classes); nums != nil {
			d.Classes = nums
		} else {
			d.ClassLabels = slices.Clone(e.Classes)
		}
	default:
		for j, c := range targs {
			if err := t.numbers(c, d.Y[j:], O); err != nil {
				return nil, err
			}
		}
	}
	if t.Names != nil {
		for j, ec := range e.Features {
			name := t.Names[feats[j]]
			if ec.Categories == nil {
				d.FeatureNames = append(d.FeatureNames, name)
			}
			for _, k := range ec.Categories {
				d.FeatureNames = append(d.FeatureNames, name+"="+k)
			}
		}
		if targs != nil && e.Classes != nil {
			for _, k := range e.Classes {
				d.TargetNames = append(d.TargetNames, t.Names[targs[0]]+"="+k)
			}
		} else {
			for _, c := range targs {
				d.TargetNames = append(d.TargetNames, t.Names[c])
			}
		}
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Path, err)
	}
	return d, nil
}

// numbers writes numeric column c as float32 into dst[0], dst[stride], ...
func (t *Table) numbers(c int, dst []float32, stride int) error {
	col := &t.cols[c]
	if col.text != nil {
		r := col.firstText
		return t.errAt(r, c, "not a number: "+quoteValue(col.text[r]))
	}
	for r, v := range col.num {
		f := float32(v)
		if col.f32 != nil {
			f = col.f32[r]
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return t.errAt(r, c, "non-finite value "+strconv.FormatFloat(v, 'g', -1, 64)+" not allowed")
		}
		if math.IsInf(float64(f), 0) {
			return t.errAt(r, c, "value "+strconv.FormatFloat(v, 'g', -1, 64)+" overflows float32")
		}
		dst[r*stride] = f
	}
	return nil
}

// match finds e's feature and target columns in t; targs is nil when t
// lacks the targets.
func (e *Encoding) match(t *Table, byPosition bool) (feats, targs []int, err error) {
	byName := t.Names != nil && !byPosition
	for _, c := range append(slices.Clone(e.Features), e.Targets...) {
		byName = byName && c.Name != ""
	}
	if byName {
		col := map[string]int{}
		for i, n := range t.Names {
			if _, dup := col[n]; dup {
				col[n] = -1
			} else {
				col[n] = i
			}
		}
		for _, c := range append(slices.Clone(e.Features), e.Targets...) {
			if col[c.Name] < 0 {
				return nil, nil, fmt.Errorf("%s: column name %q appears twice; cannot match the columns by name", t.Path, c.Name)
			}
		}
		var missing []string
		for _, c := range e.Features {
			if i, ok := col[c.Name]; ok {
				feats = append(feats, i)
			} else {
				missing = append(missing, strconv.Quote(c.Name))
			}
		}
		if len(missing) > 0 {
			var want []string
			for _, c := range e.Features {
				want = append(want, strconv.Quote(c.Name))
			}
			return nil, nil, fmt.Errorf("%s: no column named %s: the model's features are %s; the file's columns are %s",
				t.Path, strings.Join(missing, ", "), strings.Join(want, ", "), listNames(t.Names))
		}
		for _, c := range e.Targets {
			i, ok := col[c.Name]
			if !ok {
				return feats, nil, nil
			}
			targs = append(targs, i)
		}
		return feats, targs, nil
	}
	shift := func(i int) int { return i }
	switch len(t.cols) {
	case e.Columns:
	case e.Columns - len(e.Targets):
		shift = func(i int) int {
			n := i
			for _, c := range e.Targets {
				if c.Index < i {
					n--
				}
			}
			return n
		}
	default:
		return nil, nil, fmt.Errorf("%s has %d columns, want %d (as the training file) or %d (without the target): the columns are matched by position",
			t.Path, len(t.cols), e.Columns, e.Columns-len(e.Targets))
	}
	for _, c := range e.Features {
		feats = append(feats, shift(c.Index))
	}
	if len(t.cols) == e.Columns {
		for _, c := range e.Targets {
			targs = append(targs, c.Index)
		}
	}
	return feats, targs, nil
}

// targetDesc names the target columns for a message.
func (e *Encoding) targetDesc() string {
	var s []string
	for _, c := range e.Targets {
		if c.Name != "" {
			s = append(s, strconv.Quote(c.Name))
		} else {
			s = append(s, "column "+strconv.Itoa(c.Index))
		}
	}
	if s == nil {
		return "the model has none"
	}
	return strings.Join(s, ", ")
}

func indexOf(keys []string) map[string]int {
	m := make(map[string]int, len(keys))
	for i, k := range keys {
		m[k] = i
	}
	return m
}

// listValues lists labels for a message, shortened when there are many.
func listValues(keys []string) string {
	return "[" + shortList(len(keys), 10, " ", func(i int) string { return quoteValue(keys[i]) }) + "]"
}
