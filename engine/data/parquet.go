package data

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
)

// Parquet files are read with github.com/parquet-go/parquet-go, row
// group by row group, into a Table. The schema must be flat: one column
// per top-level field. Booleans (as 0/1), integers of any width (signed or
// unsigned) and floats are numeric columns; strings (BYTE_ARRAY, UTF8 or
// ENUM) are text columns. Decimals, INT96 timestamps, fixed-length byte
// arrays and nested or repeated fields are refused, naming the column. A
// null is an error naming the file, row and column: there are no missing
// values.

// LoadParquet reads a Parquet file as a Table; maxRows > 0 limits the
// rows read.
func LoadParquet(path string, maxRows int) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a data file", path)
	}
	return ReadParquet(f, st.Size(), path, maxRows)
}

// parquetKind is how a column's values are read.
type parquetKind int

const (
	pqBool parquetKind = iota
	pqInt32
	pqUint32
	pqInt64
	pqUint64
	pqFloat
	pqDouble
	pqText
)

// ReadParquet reads a Parquet file of size bytes from r as a Table; name
// is used in errors. A file the Parquet library cannot decode is an error
// naming it, also when the library panics on it.
func ReadParquet(r io.ReaderAt, size int64, name string, maxRows int) (t *Table, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("%s: parquet: corrupt or unsupported file (%v)", name, p)
		}
	}()
	if maxRows < 0 {
		return nil, &OptionError{File: name, Option: "MaxRows", Value: fmt.Sprint(maxRows), Msg: fmt.Sprintf("the row limit %d is negative", maxRows)}
	}
	if err := checkParquetFooter(r, size); err != nil {
		return nil, fmt.Errorf("%s: parquet: %w", name, err)
	}
	pf, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%s: parquet: %w", name, err)
	}
	if err := checkParquetPages(r, size, pf.Metadata()); err != nil {
		return nil, fmt.Errorf("%s: parquet: %w", name, err)
	}
	fields := pf.Schema().Fields()
	ncols := len(fields)
	if ncols == 0 {
		return nil, fmt.Errorf("%s: parquet: the schema has no columns", name)
	}
	if ncols > MaxFeatures+1 {
		return nil, fmt.Errorf("%s: parquet: %d columns is more than the %d allowed", name, ncols, MaxFeatures+1)
	}
	if len(pf.Schema().Columns()) != ncols {
		return nil, fmt.Errorf("%s: parquet: nested columns are not supported (the schema has %d fields and %d leaf columns)", name, ncols, len(pf.Schema().Columns()))
	}
	t = &Table{Path: name, Names: make([]string, ncols), cols: make([]tableColumn, ncols)}
	kinds := make([]parquetKind, ncols)
	for c, f := range fields {
		t.Names[c] = f.Name()
		t.cols[c].firstText = -1
		k, msg := parquetColumnKind(f)
		if msg != "" {
			return nil, fmt.Errorf("%s: parquet: column %q: %s", name, f.Name(), msg)
		}
		kinds[c] = k
		if k == pqText {
			t.cols[c].firstText = 0
			t.cols[c].text = []string{}
		}
	}
	nrows := pf.NumRows()
	if maxRows > 0 {
		nrows = min(nrows, int64(maxRows))
	}
	if nrows < 0 || nrows > int64(MaxValues/ncols) {
		return nil, fmt.Errorf("%s: parquet: %d rows × %d columns is more than the %d values allowed", name, nrows, ncols, MaxValues)
	}
	prealloc := int(min(nrows, 1<<16))
	for c := range t.cols {
		if t.cols[c].text == nil {
			t.cols[c].num = make([]float64, 0, prealloc)
		}
	}
	intern := map[string]string{}
	buf := make([]parquet.Row, 128)
	seen := make([]bool, ncols)
	for _, rg := range pf.RowGroups() {
		if int64(t.N) >= nrows {
			break
		}
		rows := rg.Rows()
		for int64(t.N) < nrows {
			n, rerr := rows.ReadRows(buf[:min(int64(len(buf)), nrows-int64(t.N))])
			for _, row := range buf[:n] {
				clear(seen)
				for _, v := range row {
					c := v.Column()
					if c < 0 || c >= ncols || seen[c] {
						rows.Close()
						return nil, fmt.Errorf("%s: parquet: row %d: malformed row (column %d)", name, t.N+1, c)
					}
					seen[c] = true
					if v.IsNull() {
						rows.Close()
						return nil, t.errAt(t.N, c, "null value: missing values are not supported (drop or fill them first)")
					}
					col := &t.cols[c]
					switch kinds[c] {
					case pqText:
						s := string(v.ByteArray())
						if is, ok := intern[s]; ok {
							s = is
						} else if len(intern) < 1<<16 {
							intern[s] = s
						}
						col.text = append(col.text, s)
					default:
						col.num = append(col.num, parquetNumber(v, kinds[c]))
					}
				}
				for c, ok := range seen {
					if !ok {
						rows.Close()
						return nil, t.errAt(t.N, c, "no value")
					}
				}
				t.N++
			}
			if rerr == io.EOF || n == 0 && rerr == nil {
				break
			}
			if rerr != nil {
				rows.Close()
				return nil, fmt.Errorf("%s: parquet: row %d: %w", name, t.N+1, rerr)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("%s: parquet: %w", name, err)
		}
	}
	if t.N == 0 {
		return nil, fmt.Errorf("%s: parquet: no rows", name)
	}
	return t, nil
}

// maxParquetPage bounds a page's size, compressed or not: the Parquet
// library allocates what a page header claims.
const maxParquetPage = 1 << 28

// maxPageValues bounds the values of one page (writers put thousands to
// a million in one), since run-length encoding can claim billions in a few
// bytes.
const maxPageValues = 1 << 24

// maxPageHeader bounds a page header (with its statistics).
const maxPageHeader = 1 << 20

// checkParquetPages reads the header of every page of every column chunk
// before the Parquet library does, and refuses a page that claims more
// bytes than its column chunk holds or more than maxParquetPage
// uncompressed: the library would allocate that much on the header's word.
func checkParquetPages(r io.ReaderAt, size int64, md *format.FileMetaData) error {
	for g, rg := range md.RowGroups {
		for c, cc := range rg.Columns {
			if cc.FilePath != "" {
				return fmt.Errorf("row group %d, column %d: data in another file (%q) is not supported", g, c, cc.FilePath)
			}
			m := &cc.MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
				start = m.DictionaryPageOffset
			}
			end := start + m.TotalCompressedSize
			if start < 4 || m.TotalCompressedSize < 0 || end < start || end > size {
				return fmt.Errorf("row group %d, column %d: column chunk at bytes %d..%d outside the %d-byte file", g, c, start, end, size)
			}
			for pos := start; pos < end; {
				win := make([]byte, min(end-pos, maxPageHeader))
				if _, err := r.ReadAt(win, pos); err != nil {
					return fmt.Errorf("row group %d, column %d: page header at byte %d: %v", g, c, pos, err)
				}
				n, err := checkThriftStruct(win)
				if err != nil {
					return fmt.Errorf("row group %d, column %d: page header at byte %d (at most %d bytes read): %v", g, c, pos, maxPageHeader, err)
				}
				var h format.PageHeader
				if err := thrift.Unmarshal(new(thrift.CompactProtocol), win[:n], &h); err != nil {
					return fmt.Errorf("row group %d, column %d: page header at byte %d: %v", g, c, pos, err)
				}
				pos += int64(n)
				if h.CompressedPageSize < 0 || int64(h.CompressedPageSize) > end-pos || h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxParquetPage {
					return fmt.Errorf("row group %d, column %d: page at byte %d claims %d bytes (%d uncompressed), but %d remain in its column chunk (and at most %d are allowed)",
						g, c, pos, h.CompressedPageSize, h.UncompressedPageSize, end-pos, maxParquetPage)
				}
				if nv := max(h.DataPageHeader.V.NumValues, h.DataPageHeaderV2.V.NumValues, h.DictionaryPageHeader.V.NumValues); nv > maxPageValues {
					return fmt.Errorf("row group %d, column %d: page at byte %d claims %d values (at most %d are allowed)", g, c, pos, nv, maxPageValues)
				}
				if m.Codec != format.Uncompressed && h.CompressedPageSize > 0 {
					if err := checkPageBody(r, pos, &h, m.Codec); err != nil {
						return fmt.Errorf("row group %d, column %d: page at byte %d: %v", g, c, pos, err)
					}
				}
				pos += int64(h.CompressedPageSize)
			}
		}
	}
	return nil
}

// checkPageBody decompresses the page at pos (header h) with codec into
// at most its claimed uncompressed size, and refuses it if it does not fit
// or does not decode: the library's decoders trust the data (LZ4 doubles
// its buffer without end on corrupt input, snappy allocates what its
// header claims, a gzip/zstd/brotli stream is read to its end).
func checkPageBody(r io.ReaderAt, pos int64, h *format.PageHeader, codec format.CompressionCodec) error {
	page := make([]byte, h.CompressedPageSize)
	if _, err := r.ReadAt(page, pos); err != nil {
		return err
	}
	if v2 := h.DataPageHeaderV2; v2.Valid {
		if v2.V.IsCompressed.Valid && !v2.V.IsCompressed.V {
			return nil
		}
		levels := int64(v2.V.RepetitionLevelsByteLength) + int64(v2.V.DefinitionLevelsByteLength)
		if levels > int64(len(page)) {
			return fmt.Errorf("levels of %d bytes in a page of %d", levels, len(page))
		}
		page = page[levels:]
	}
	limit := int64(h.UncompressedPageSize)
	var rd io.Reader
	switch codec {
	case format.Snappy:
		n, err := snappy.DecodedLen(page)
		if err != nil || int64(n) > limit {
			return fmt.Errorf("snappy data claims %d bytes, the page %d (%v)", n, limit, err)
		}
		return nil
	case format.Lz4Raw:
		if _, err := lz4.UncompressBlock(page, make([]byte, limit)); err != nil {
			return fmt.Errorf("LZ4 data does not decode into the %d bytes the page claims: %v", limit, err)
		}
		return nil
	case format.Zstd:
		var zh zstd.Header
		if err := zh.Decode(page); err != nil || zh.HasFCS && zh.FrameContentSize > uint64(limit) {
			return fmt.Errorf("zstd frame of %d bytes in a page of %d (%v)", zh.FrameContentSize, limit, err)
		}
		zr, err := zstd.NewReader(bytes.NewReader(page), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(limit)+1<<20))
		if err != nil {
			return err
		}
		defer zr.Close()
		rd = zr
	case format.Gzip:
		zr, err := gzip.NewReader(bytes.NewReader(page))
		if err != nil {
			return fmt.Errorf("gzip: %v", err)
		}
		rd = zr
	case format.Brotli:
		rd = brotli.NewReader(bytes.NewReader(page))
	default:
		return fmt.Errorf("compression codec %s is not supported", codec)
	}
	n, err := io.Copy(io.Discard, io.LimitReader(rd, limit+1))
	if err != nil {
		return fmt.Errorf("%s data does not decode: %v", codec, err)
	}
	if n > limit {
		return fmt.Errorf("%s data decodes to more than the %d bytes the page claims", codec, limit)
	}
	return nil
}

// parquetColumnKind says how column f is read, or why it cannot be.
func parquetColumnKind(f parquet.Field) (parquetKind, string) {
	if !f.Leaf() {
		return 0, "a nested group: only flat columns are supported"
	}
	if f.Repeated() {
		return 0, "a repeated (list) column: only one value per row is supported"
	}
	typ := f.Type()
	var lt format.LogicalTypeValue
	if l := typ.LogicalType(); l != nil {
		lt = l.Value
	}
	unsigned := false
	switch v := lt.(type) {
	case *format.DecimalType:
		return 0, "a DECIMAL column is not supported (cast it to a float column)"
	case *format.IntType:
		unsigned = !v.IsSigned
	case nil, *format.StringType, *format.EnumType:
	case *format.DateType, *format.TimeType, *format.TimestampType:
		// Read as their integer value (days, or units since the epoch).
	default:
		return 0, fmt.Sprintf("logical type %s is not supported", lt)
	}
	if ct := typ.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.Decimal:
			return 0, "a DECIMAL column is not supported (cast it to a float column)"
		case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
			unsigned = true
		}
	}
	switch typ.Kind() {
	case parquet.Boolean:
		return pqBool, ""
	case parquet.Int32:
		if unsigned {
			return pqUint32, ""
		}
		return pqInt32, ""
	case parquet.Int64:
		if unsigned {
			return pqUint64, ""
		}
		return pqInt64, ""
	case parquet.Float:
		return pqFloat, ""
	case parquet.Double:
		return pqDouble, ""
	case parquet.ByteArray:
		return pqText, ""
	}
	return 0, fmt.Sprintf("physical type %s is not supported (want booleans, integers, floats or strings)", strings.ToUpper(typ.Kind().String()))
}

// parquetNumber is a numeric value as float64.
func parquetNumber(v parquet.Value, k parquetKind) float64 {
	switch k {
	case pqBool:
		if v.Boolean() {
			return 1
		}
		return 0
	case pqInt32:
		return float64(v.Int32())
	case pqUint32:
		return float64(v.Uint32())
	case pqInt64:
		return float64(v.Int64())
	case pqUint64:
		return float64(v.Uint64())
	case pqFloat:
		return float64(v.Float())
	}
	return v.Double()
}

// isParquet says whether a path names a .parquet file.
func isParquet(path string) bool {
	return strings.HasSuffix(strings.ToLower(path), ".parquet")
}

// ParquetColumn is one column for WriteParquet: exactly one of Float64,
// Float32, Int64 or Text holds its values; Nulls, if set, marks rows whose
// value is null (the column is then optional).
type ParquetColumn struct {
	Name    string
	Float64 []float64
	Float32 []float32
	Int64   []int64
	Text    []string
	Bool    []bool
	Nulls   []bool
}

func (c *ParquetColumn) len() int {
	return max(len(c.Float64), len(c.Float32), len(c.Int64), len(c.Text), len(c.Bool))
}

// orderedGroup is a Parquet group whose fields keep the order given
// (parquet.Group sorts them by name).
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }

type namedNode struct {
	parquet.Node
	name string
}

func (n namedNode) Name() string                           { return n.name }
func (n namedNode) Value(base reflect.Value) reflect.Value { return base }

// WriteParquet writes the columns, in the order given, as a Parquet file
// (zstd-compressed, rowGroup rows per row group; 0: one group). It is what
// the tests, the fuzz corpus and docs/datasets/npz2parquet use.
func WriteParquet(w io.Writer, cols []ParquetColumn, rowGroup int) error {
	if len(cols) == 0 {
		return fmt.Errorf("parquet: no columns")
	}
	n := cols[0].len()
	g := orderedGroup{Group: parquet.Group{}}
	for i := range cols {
		c := &cols[i]
		if c.len() != n || c.Nulls != nil && len(c.Nulls) != n {
			return fmt.Errorf("parquet: column %q has %d values, column %q %d", c.Name, c.len(), cols[0].Name, n)
		}
		var node parquet.Node
		switch {
		case c.Float64 != nil:
			node = parquet.Leaf(parquet.DoubleType)
		case c.Float32 != nil:
			node = parquet.Leaf(parquet.FloatType)
		case c.Int64 != nil:
			node = parquet.Int(64)
		case c.Bool != nil:
			node = parquet.Leaf(parquet.BooleanType)
		default:
			node = parquet.String()
		}
		if c.Nulls != nil {
			node = parquet.Optional(node)
		}
		node = parquet.Compressed(node, &parquet.Zstd)
		g.Group[c.Name] = node
		g.fields = append(g.fields, namedNode{node, c.Name})
	}
	schema := parquet.NewSchema("ntklsh", g)
	opts := []parquet.WriterOption{schema}
	if rowGroup > 0 {
		opts = append(opts, parquet.MaxRowsPerRowGroup(int64(rowGroup)))
	}
	pw := parquet.NewWriter(w, opts...)
	row := make(parquet.Row, len(cols))
	for r := range n {
		for i := range cols {
			c := &cols[i]
			var v parquet.Value
			switch {
			case c.Nulls != nil && c.Nulls[r]:
				v = parquet.NullValue()
			case c.Float64 != nil:
				v = parquet.DoubleValue(c.Float64[r])
			case c.Float32 != nil:
				v = parquet.FloatValue(c.Float32[r])
			case c.Int64 != nil:
				v = parquet.Int64Value(c.Int64[r])
			case c.Bool != nil:
				v = parquet.BooleanValue(c.Bool[r])
			default:
				v = parquet.ByteArrayValue([]byte(c.Text[r]))
			}
			def := 0
			if c.Nulls != nil && !c.Nulls[r] {
				def = 1
			}
			row[i] = v.Level(0, def, i)
		}
		if _, err := pw.WriteRows([]parquet.Row{row}); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}
