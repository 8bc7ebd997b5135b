package data

import (
	"fmt"
	"math"
	"slices"
)

// Dataset is a dense in-memory dataset, row-major float32.
type Dataset struct {
	Name    string    // e.g. file base name or "teacher"
	N, D, O int       // points, features, outputs (targets per point)
	X       []float32 // N×D, row-major
	Y       []float32 // N×O, row-major

	// FeatureNames are the feature column names from a CSV header; nil or
	// len D.
	FeatureNames []string
	// TargetNames are the target column names from a CSV header; nil or
	// len O. For one-hot targets they are "<column>=<label>".
	TargetNames []string
	// TargetColumn is the 0-based column of the (first) target in a CSV
	// file (D+O when there are no targets, 0 for LIBSVM's label).
	TargetColumn int
	// Classes, for one-hot targets, holds the original class label that
	// each output column stands for (sorted ascending); nil or len O.
	Classes []float64
	// ClassLabels, for one-hot targets whose labels are not all numbers
	// (read from a table), holds the label of each output (in SortLabels
	// order); nil or len O, and then Classes is nil.
	ClassLabels []string
	// Encoding, for a dataset read as a Table (Parquet; CSV with columns
	// chosen by name, text columns or class labels), says how its columns
	// became features and targets, so that other files can be read the
	// same way (Encoding.Apply); nil otherwise.
	Encoding *Encoding
}

// XRow returns the features of point i (a slice aliasing d.X).
func (d *Dataset) XRow(i int) []float32 { return d.X[i*d.D : (i+1)*d.D : (i+1)*d.D] }

// YRow returns the targets of point i (a slice aliasing d.Y).
func (d *Dataset) YRow(i int) []float32 { return d.Y[i*d.O : (i+1)*d.O : (i+1)*d.O] }

// Validate checks that the shapes are consistent and that every value is
// finite. The error names the first offending row and column.
func (d *Dataset) Validate() error {
	if d == nil {
		return fmt.Errorf("data: nil dataset")
	}
	if d.N < 0 || d.D < 0 || d.O < 0 {
		return fmt.Errorf("data: dataset %q: negative shape N=%d D=%d O=%d", d.Name, d.N, d.D, d.O)
	}
	if d.D > 0 && d.N > math.MaxInt/d.D || d.O > 0 && d.N > math.MaxInt/d.O {
		return fmt.Errorf("data: dataset %q: shape N=%d D=%d O=%d overflows int", d.Name, d.N, d.D, d.O)
	}
	if len(d.X) != d.N*d.D {
		return fmt.Errorf("data: dataset %q: len(X)=%d, want N*D=%d*%d=%d", d.Name, len(d.X), d.N, d.D, d.N*d.D)
	}
	if len(d.Y) != d.N*d.O {
		return fmt.Errorf("data: dataset %q: len(Y)=%d, want N*O=%d*%d=%d", d.Name, len(d.Y), d.N, d.O, d.N*d.O)
	}
	if d.FeatureNames != nil && len(d.FeatureNames) != d.D {
		return fmt.Errorf("data: dataset %q: %d feature names for D=%d features", d.Name, len(d.FeatureNames), d.D)
	}
	if d.TargetNames != nil && len(d.TargetNames) != d.O {
		return fmt.Errorf("data: dataset %q: %d target names for O=%d outputs", d.Name, len(d.TargetNames), d.O)
	}
	if d.Classes != nil && len(d.Classes) != d.O {
		return fmt.Errorf("data: dataset %q: %d classes for O=%d outputs", d.Name, len(d.Classes), d.O)
	}
	if d.ClassLabels != nil && len(d.ClassLabels) != d.O {
		return fmt.Errorf("data: dataset %q: %d class labels for O=%d outputs", d.Name, len(d.ClassLabels), d.O)
	}
	for k, v := range d.X {
		if !isFinite32(v) {
			return fmt.Errorf("data: dataset %q: X[%d][%d] = %v is not finite", d.Name, k/d.D, k%d.D, v)
		}
	}
	for k, v := range d.Y {
		if !isFinite32(v) {
			return fmt.Errorf("data: dataset %q: Y[%d][%d] = %v is not finite", d.Name, k/d.O, k%d.O, v)
		}
	}
	return nil
}

// Subset returns a new dataset holding copies of the rows idx (in that
// order; repeats allowed). Names and classes are copied too. It panics if an
// index is out of range, which is a programming error.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := &Dataset{
		Name:         d.Name,
		N:            len(idx),
		D:            d.D,
		O:            d.O,
		X:            make([]float32, len(idx)*d.D),
		Y:            make([]float32, len(idx)*d.O),
		FeatureNames: slices.Clone(d.FeatureNames),
		TargetNames:  slices.Clone(d.TargetNames),
		Classes:      slices.Clone(d.Classes),
		ClassLabels:  slices.Clone(d.ClassLabels),
		Encoding:     d.Encoding,
		TargetColumn: d.TargetColumn,
	}
	for r, i := range idx {
		if i < 0 || i >= d.N {
			panic(fmt.Sprintf("data: Subset index %d out of range [0,%d)", i, d.N))
		}
		copy(s.X[r*d.D:(r+1)*d.D], d.X[i*d.D:(i+1)*d.D])
		copy(s.Y[r*d.O:(r+1)*d.O], d.Y[i*d.O:(i+1)*d.O])
	}
	return s
}

func isFinite32(v float32) bool {
	f := float64(v)
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}
