package data

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeMSDLike writes n rows in the YearPredictionMSD layout (year, then
// 90 features printed like the original, e.g. "49.94357").
func writeMSDLike(b *testing.B, dir string, n int, svm bool) (string, int64) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString(strconv.Itoa(1922 + r.IntN(90)))
		for j := 1; j <= 90; j++ {
			v := strconv.FormatFloat(r.NormFloat64()*40, 'f', 5, 64)
			if svm {
				sb.WriteString(" " + strconv.Itoa(j) + ":" + v)
			} else {
				sb.WriteString("," + v)
			}
		}
		sb.WriteString("\n")
	}
	name := "msd.csv"
	if svm {
		name = "msd.libsvm"
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path, int64(sb.Len())
}

func BenchmarkLoadCSVMSDLike(b *testing.B) {
	path, size := writeMSDLike(b, b.TempDir(), 20000, false)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		d, err := LoadCSV(path, CSVOptions{})
		if err != nil || d.N != 20000 || d.D != 90 {
			b.Fatal(err)
		}
		b.ReportMetric(float64(cap(d.X))/float64(len(d.X)), "capX/lenX")
	}
}

func BenchmarkLoadLIBSVMMSDLike(b *testing.B) {
	path, size := writeMSDLike(b, b.TempDir(), 20000, true)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		d, err := LoadLIBSVM(path, LIBSVMOptions{})
		if err != nil || d.N != 20000 || d.D != 90 {
			b.Fatal(err)
		}
	}
}

func BenchmarkTeacherDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Teacher(DefaultTeacher()); err != nil {
			b.Fatal(err)
		}
	}
}
