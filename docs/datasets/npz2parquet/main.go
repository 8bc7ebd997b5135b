// Command npz2parquet writes a NumPy .npz data set (arrays x and y, as
// ntklsh reads them) as a Parquet file: one float32 column per feature,
// named PREFIX00, PREFIX01, ... (zero-padded to sort in order), and the
// target column named by -target: int64 when every target is an integer,
// float32 otherwise. Only one target column is supported.
//
//	go run ./docs/datasets/npz2parquet [-prefix p] [-target y] IN.npz OUT.parquet
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"

	"github.com/ntklsh/ntklsh/engine/data"
)

func main() {
	prefix := flag.String("prefix", "x", "feature column name prefix")
	target := flag.String("target", "y", "target column name")
	rowGroup := flag.Int("row-group", 0, "rows per row group (0: one group)")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: npz2parquet [-prefix p] [-target y] IN.npz OUT.parquet")
		os.Exit(2)
	}
	if err := convert(flag.Arg(0), flag.Arg(1), *prefix, *target, *rowGroup); err != nil {
		fmt.Fprintln(os.Stderr, "npz2parquet:", err)
		os.Exit(1)
	}
}

func convert(in, out, prefix, target string, rowGroup int) error {
	d, err := data.LoadNPY(in, data.NPYOptions{})
	if err != nil {
		return err
	}
	if d.O != 1 {
		return fmt.Errorf("%s: %d target columns; only one is supported", in, d.O)
	}
	width := len(fmt.Sprint(d.D - 1))
	cols := make([]data.ParquetColumn, 0, d.D+1)
	for j := range d.D {
		c := data.ParquetColumn{Name: fmt.Sprintf("%s%0*d", prefix, width, j), Float32: make([]float32, d.N)}
		for i := range d.N {
			c.Float32[i] = d.X[i*d.D+j]
		}
		cols = append(cols, c)
	}
	y := data.ParquetColumn{Name: target, Int64: make([]int64, d.N)}
	for i, v := range d.Y {
		if float64(v) != math.Trunc(float64(v)) {
			y = data.ParquetColumn{Name: target, Float32: d.Y}
			break
		}
		y.Int64[i] = int64(v)
	}
	cols = append(cols, y)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := data.WriteParquet(w, cols, rowGroup); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("%s: %d rows, %d feature columns %s..%s and target %s\n", out, d.N, d.D, cols[0].Name, cols[d.D-1].Name, target)
	return nil
}
