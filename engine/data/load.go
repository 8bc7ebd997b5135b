package data

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Load reads a dataset file in CSV or LIBSVM format, transparently
// decompressing gzip and bzip2 (recognised by their magic bytes, whatever
// the file is called).
//
// format is "csv", "libsvm", "npy", "parquet", or "" to choose by file name after stripping a
// .gz/.bz2 suffix: .csv and .tsv are CSV;
// .libsvm, .svm and .scale are LIBSVM; .npy and .npz NumPy; .parquet Parquet. For .txt and any other name the
// first data line decides: "label idx:val ..." is LIBSVM, a line with the
// delimiter (csv.Comma, else ',', ';' or tab) is CSV. (UCI's
// YearPredictionMSD.txt is CSV; most LIBSVM-site .txt files are LIBSVM.)
//
// For CSV with csv.Comma 0 the separator is sniffed from the first lines
// (see SniffSeparator; the fallback is tab for .tsv, ',' otherwise).
//
// csv and svm are the options used for the respective format. Errors name
// the path; a directory is refused as such.
//
// Parquet files (.parquet, or format "parquet") and CSV files with
// csv.Features, csv.Categorical, csv.AutoClasses or csv.OneHot are read as
// a Table (LoadTable) and made a Dataset by Table.Dataset; the Dataset's
// Encoding says how.
func Load(path, format string, csv CSVOptions, svm LIBSVMOptions) (*Dataset, error) {
	return LoadProgress(path, format, csv, svm, nil)
}

// progressReader reports the bytes read so far.
type progressReader struct {
	r        io.Reader
	done     int64
	total    int64
	progress func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	p.progress(p.done, p.total)
	return n, err
}

// LoadProgress is Load that calls progress with the bytes of the file read
// so far (compressed bytes for .gz/.bz2) and the file size.
func LoadProgress(path, format string, csv CSVOptions, svm LIBSVMOptions, progress func(done, total int64)) (*Dataset, error) {
	d, _, err := load(path, format, csv, svm, progress, false)
	return d, err
}

// LoadTable reads a CSV (as Load does: compressed, separator sniffed) or
// Parquet file as a Table. Of csv it uses Header, Comma and MaxRows.
func LoadTable(path, format string, csv CSVOptions) (*Table, error) {
	_, t, err := load(path, format, csv, LIBSVMOptions{}, nil, true)
	return t, err
}

// asTable says whether Load reads a CSV file as a Table: when columns are
// chosen by name, text columns encoded or the target holds class labels.
func (opt CSVOptions) asTable() bool {
	return opt.Features != nil || opt.Categorical || opt.AutoClasses || opt.OneHot > 0
}

// fromTable is Load's Dataset of a table.
func fromTable(t *Table, opt CSVOptions) (*Dataset, error) {
	d, enc, err := t.Dataset(opt)
	if err != nil {
		return nil, err
	}
	d.Encoding = enc
	return d, nil
}

// noColumnOptions refuses Features and Categorical for a format without
// named or text columns.
func noColumnOptions(path, what string, csv CSVOptions) error {
	opt, v := "Features", strings.Join(csv.Features, ",")
	if csv.Features == nil {
		opt, v = "Categorical", "auto"
	}
	if csv.Features != nil || csv.Categorical {
		return &OptionError{File: path, Option: opt, Value: v, Msg: what + " has no named or text columns: choosing features by name and categorical encoding are for CSV and Parquet"}
	}
	return nil
}

// load is Load, or LoadTable with wantTable.
func load(path, format string, csv CSVOptions, svm LIBSVMOptions, progress func(done, total int64), wantTable bool) (*Dataset, *Table, error) {
	switch format {
	case "", "csv", "libsvm", "parquet":
	case "npy", "npz":
	default:
		return nil, nil, fmt.Errorf("data: %s: unknown format %q (want \"csv\", \"libsvm\", \"npy\", \"parquet\" or \"\" to detect)", path, format)
	}
	if format == "parquet" || format == "" && isParquet(path) {
		t, err := LoadParquet(path, csv.MaxRows)
		if err != nil || wantTable {
			return nil, t, err
		}
		d, err := fromTable(t, csv)
		return d, nil, err
	}
	if wantTable && (format == "libsvm" || format == "npy" || format == "npz" || format == "" && isNPY(path)) {
		return nil, nil, fmt.Errorf("%s: only CSV and Parquet files are read as tables (columns by name, text columns)", path)
	}
	if format == "npy" || format == "npz" || format == "" && isNPY(path) {
		if err := noColumnOptions(path, "a .npy/.npz file", csv); err != nil {
			return nil, nil, err
		}
		d, err := loadNPYLike(path, csv, svm)
		return d, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	var sizeHint int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		sizeHint = st.Size()
	} else if err == nil && st.IsDir() {
		return nil, nil, fmt.Errorf("%s is a directory, not a data file", path)
	}

	var src io.Reader = f
	if progress != nil {
		src = &progressReader{r: f, total: sizeHint, progress: progress}
	}
	raw := bufio.NewReaderSize(src, 1<<16)
	var r io.Reader = raw
	magic, _ := raw.Peek(3)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: gzip: %w", path, err)
		}
		defer zr.Close()
		r, sizeHint = zr, 0
	case bytes.HasPrefix(magic, []byte("BZh")):
		r, sizeHint = bzip2.NewReader(raw), 0
	default:
		lower := strings.ToLower(path)
		if strings.HasSuffix(lower, ".gz") {
			return nil, nil, fmt.Errorf("%s: named .gz but not gzip data (no gzip magic bytes)", path)
		}
		if strings.HasSuffix(lower, ".bz2") {
			return nil, nil, fmt.Errorf("%s: named .bz2 but not bzip2 data (no bzip2 magic bytes)", path)
		}
	}

	compressed := r != io.Reader(raw)
	base := strings.ToLower(filepath.Base(path))
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".gz"), ".bz2")
	ext := filepath.Ext(base)
	sepFallback := ','
	if ext == ".tsv" {
		sepFallback = '\t'
	}
	if format == "" {
		switch ext {
		case ".csv", ".tsv":
			format = "csv"
		case ".libsvm", ".svm", ".scale":
			format = "libsvm"
		}
	}
	var br *bufio.Reader
	if r == io.Reader(raw) {
		br = raw
	} else {
		br = bufio.NewReaderSize(r, 1<<16)
	}
	if err := skipBOM(br); err != nil {
		if compressed {
			return nil, nil, fmt.Errorf("%s: read: %w (truncated or corrupt compressed file?)", path, err)
		}
		return nil, nil, fmt.Errorf("%s: read: %w", path, err)
	}
	if format == "" {
		format, err = sniffFormat(br, &csv)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if format == "csv" && csv.Comma == 0 {
		// Comma 0 means: sniff it from the first lines.
		head, err := br.Peek(br.Size())
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, nil, fmt.Errorf("%s: read: %w", path, err)
		}
		csv.Comma = SniffSeparator(head, sepFallback)
	}

	if format == "csv" && (wantTable || csv.asTable()) {
		t, err := ReadCSVTable(br, path, csv)
		if err != nil || wantTable {
			return nil, t, err
		}
		d, err := fromTable(t, csv)
		return d, nil, err
	}
	if wantTable {
		return nil, nil, fmt.Errorf("%s: only CSV and Parquet files are read as tables (columns by name, text columns)", path)
	}
	if err := noColumnOptions(path, "a LIBSVM file", csv); err != nil {
		return nil, nil, err
	}
	var d *Dataset
	if format == "csv" {
		d, err = readCSV(br, path, csv, sizeHint)
	} else {
		d, err = ReadLIBSVM(br, path, svm)
	}
	if err != nil {
		return nil, nil, err
	}
	d.Name = datasetName(path)
	return d, nil, nil
}

// sniffFormat looks at the first non-blank, non-comment line of br (without
// consuming it) and returns "csv" or "libsvm".
func sniffFormat(br *bufio.Reader, opt *CSVOptions) (string, error) {
	peek, err := br.Peek(br.Size())
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return "", fmt.Errorf("read: %w", err)
	}
	for _, ln := range strings.Split(string(peek), "\n") {
		line := strings.TrimSpace(ln)
		if line == "" || line[0] == '#' {
			continue
		}
		if opt.Comma != 0 && strings.ContainsRune(line, opt.Comma) {
			return "csv", nil
		}
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		_, rest := nextToken(line)
		second, _ := nextToken(rest)
		if strings.Contains(second, ":") && !strings.ContainsAny(line, ",;") {
			return "libsvm", nil
		}
		for _, c := range Separators {
			if strings.ContainsRune(line, c) {
				return "csv", nil // the separator is sniffed by the caller
			}
		}
		if second == "" { // a lone label: LIBSVM row without features
			return "libsvm", nil
		}
		return "", fmt.Errorf("cannot tell the format from the first line %s; pass format \"csv\" or \"libsvm\"", quoteValue(line))
	}
	return "", fmt.Errorf("empty file: no rows")
}

// datasetName is the base name of path without compression and format
// extensions, e.g. "data/YearPredictionMSD.txt.bz2" -> "YearPredictionMSD".
func datasetName(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".gz", ".bz2"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			base = base[:len(base)-len(ext)]
		}
	}
	switch strings.ToLower(filepath.Ext(base)) {
	case ".csv", ".tsv", ".txt", ".libsvm", ".svm", ".scale", ".parquet":
		base = base[:len(base)-len(filepath.Ext(base))]
	}
	if base == "" {
		return filepath.Base(path)
	}
	return base
}
