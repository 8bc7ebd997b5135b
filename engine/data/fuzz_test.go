package data

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// checkFuzzResult asserts the fuzz property: either an error that names the
// input, or a dataset that passes Validate with consistent shapes.
func checkFuzzResult(t *testing.T, name string, d *Dataset, err error) {
	t.Helper()
	if err != nil {
		if d != nil {
			t.Fatalf("both a dataset and an error: %v", err)
		}
		if !strings.HasPrefix(err.Error(), name) {
			t.Fatalf("error %q does not name the input %q", err, name)
		}
		return
	}
	if d == nil {
		t.Fatal("nil dataset without error")
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("dataset fails Validate: %v", err)
	}
	if d.N <= 0 || d.D <= 0 || d.O <= 0 {
		t.Fatalf("degenerate dataset N=%d D=%d O=%d", d.N, d.D, d.O)
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("2001,0.5,1\n1999,2,3\n"), 0, 0, uint8(0), 0)
	f.Add([]byte("a,b,y\r\n1,2,3\r\n\r\n"), -1, 1, uint8(0), 0)
	f.Add([]byte("\"x\",\"y\"\n\"1\n\",2\n"), 1, 0, uint8(1), 0)
	f.Add([]byte("1;2;3\n4;5\n"), 0, 0, uint8(2), 0)
	f.Add([]byte("1,nan\n1,+Inf\n1,1e39\n"), 0, 0, uint8(0), 0)
	f.Add([]byte("c,f\n7,1\n-1,2\n3,4\n"), 0, 0, uint8(0), 2)
	f.Add([]byte("1\t2\t\t3\n"), 2, 2, uint8(3), 0)
	f.Add([]byte(""), 0, 0, uint8(0), 0)
	f.Fuzz(func(t *testing.T, data []byte, target, targets int, mode uint8, oneHot int) {
		commas := []rune{',', ';', '\t', 0}
		opt := CSVOptions{
			Target:  target % 8,
			Targets: targets % 4,
			Header:  HeaderMode(mode % 3),
			Comma:   commas[int(mode/3)%len(commas)],
			OneHot:  oneHot % 6,
			MaxRows: int(mode>>4) % 4,
		}
		d, err := ReadCSV(bytes.NewReader(data), "fuzz.csv", opt)
		checkFuzzResult(t, "fuzz.csv", d, err)
		if err == nil && opt.MaxRows > 0 && d.N > opt.MaxRows {
			t.Fatalf("N=%d > MaxRows=%d", d.N, opt.MaxRows)
		}
	})
}

func FuzzReadLIBSVM(f *testing.F) {
	f.Add([]byte("1 1:0.5 3:2\n-1 2:1\n"), 0, 0)
	f.Add([]byte("# c\n2.5 qid:7 1:1\t4:-3 # x\r\n\n0 2:2\n"), 0, 0)
	f.Add([]byte("1 1:1\n2 5:5\n3\n"), 6, 0)
	f.Add([]byte("+1 1:1\n-1 1:2\n"), 0, 2)
	f.Add([]byte("1 0:1 2:nan 1:1e39 3000000000:1\n"), 0, 0)
	f.Add([]byte("1 100000:1\n"), 0, 0)
	f.Fuzz(func(t *testing.T, data []byte, features, oneHot int) {
		opt := LIBSVMOptions{
			Features: features % 64,
			OneHot:   oneHot % 6,
			MaxDense: 1 << 20, // keep huge indices from allocating GiBs
		}
		d, err := ReadLIBSVM(bytes.NewReader(data), "fuzz.svm", opt)
		checkFuzzResult(t, "fuzz.svm", d, err)
		if err == nil && opt.Features > 0 && d.D != opt.Features {
			t.Fatalf("D=%d, want Features=%d", d.D, opt.Features)
		}
	})
}

// FuzzSniffSeparator: the sniffer never panics, returns one of the known
// separators or the fallback, and on rows built with a separator from
// fields holding none of them returns that separator.
func FuzzSniffSeparator(f *testing.F) {
	f.Add([]byte("a;b;c\n1;2;3\n"), uint8(0), uint8(2), uint8(3))
	f.Add([]byte("1\t2\n\"x,y\"\t3\n4"), uint8(1), uint8(3), uint8(1))
	f.Add([]byte("1,5;2\n"), uint8(2), uint8(1), uint8(4))
	f.Add([]byte(""), uint8(0), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, head []byte, fb, cols, rows uint8) {
		fallback := []rune{',', ';', '\t'}[int(fb)%3]
		got := SniffSeparator(head, fallback)
		if got != fallback && !slices.Contains(Separators, got) {
			t.Fatalf("SniffSeparator(%q) = %q", head, got)
		}
		// Build a table from the fuzz bytes with a known separator.
		field := strings.Map(func(r rune) rune {
			if r == ',' || r == ';' || r == '\t' || r == '\n' || r == '\r' || r == '"' {
				return -1
			}
			return r
		}, string(head))
		if strings.TrimSpace(field) == "" {
			field += "x" // blank lines are skipped
		}
		nc, nr := int(cols)%6+2, int(rows)%4+1
		for _, sep := range Separators {
			var b strings.Builder
			for range nr {
				for c := range nc {
					if c > 0 {
						b.WriteRune(sep)
					}
					b.WriteString(field)
				}
				b.WriteByte('\n')
			}
			if got := SniffSeparator([]byte(b.String()), fallback); got != sep {
				t.Fatalf("table split by %q sniffed as %q:\n%s", sep, got, b.String())
			}
		}
	})
}
