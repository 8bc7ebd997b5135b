package data

import (
	"fmt"
	"math"
)

// Standardizer holds per-feature (and optionally per-target) means and
// standard deviations fitted on training data, to be applied to training
// and test data alike.
type Standardizer struct {
	XMean, XStd []float64 // len D
	YMean, YStd []float64 // len O, or nil when targets are not standardized
}

// FitStandardizer computes the mean and population standard deviation of
// every feature (and, if targets, every target) of d, accumulating in
// float64 with two passes. A column with zero (or non-finite) spread gets
// std 1, so applying never divides by zero. An empty dataset gives mean 0,
// std 1.
func FitStandardizer(d *Dataset, targets bool) *Standardizer {
	if d == nil {
		panic("data: FitStandardizer of nil dataset")
	}
	s := &Standardizer{}
	s.XMean, s.XStd = columnStats(d.X, d.N, d.D)
	if targets {
		s.YMean, s.YStd = columnStats(d.Y, d.N, d.O)
	}
	return s
}

func columnStats(v []float32, n, cols int) (mean, std []float64) {
	mean = make([]float64, cols)
	std = make([]float64, cols)
	if n > 0 {
		for i := 0; i < n; i++ {
			for j, x := range v[i*cols : (i+1)*cols] {
				mean[j] += float64(x)
			}
		}
		for j := range mean {
			mean[j] /= float64(n)
		}
		for i := 0; i < n; i++ {
			for j, x := range v[i*cols : (i+1)*cols] {
				dx := float64(x) - mean[j]
				std[j] += dx * dx
			}
		}
	}
	for j := range std {
		sd := math.Sqrt(std[j] / float64(max(n, 1)))
		if !(sd > 0) || math.IsInf(sd, 0) {
			sd = 1
		}
		std[j] = sd
	}
	return mean, std
}

// Apply standardizes d in place: x ← (x − mean)/std per feature, and the
// same for targets when target statistics were fitted. It returns an error,
// leaving d unchanged, if d's dimensions do not match, and an error if a
// standardized value overflows float32.
func (s *Standardizer) Apply(d *Dataset) error {
	if len(s.XMean) != d.D || len(s.XStd) != d.D {
		return fmt.Errorf("data: standardizer fitted on %d features applied to dataset %q with D=%d", len(s.XMean), d.Name, d.D)
	}
	if s.YMean != nil && (len(s.YMean) != d.O || len(s.YStd) != d.O) {
		return fmt.Errorf("data: standardizer fitted on %d targets applied to dataset %q with O=%d", len(s.YMean), d.Name, d.O)
	}
	if err := applyColumns(d.X, d.N, d.D, s.XMean, s.XStd); err != nil {
		return fmt.Errorf("data: standardizing dataset %q: X%w", d.Name, err)
	}
	if s.YMean != nil {
		if err := applyColumns(d.Y, d.N, d.O, s.YMean, s.YStd); err != nil {
			return fmt.Errorf("data: standardizing dataset %q: Y%w", d.Name, err)
		}
	}
	return nil
}

func applyColumns(v []float32, n, cols int, mean, std []float64) error {
	inv := make([]float64, cols)
	for j, sd := range std {
		inv[j] = 1 / sd
	}
	for i := 0; i < n; i++ {
		row := v[i*cols : (i+1)*cols]
		for j, x := range row {
			z := float32((float64(x) - mean[j]) * inv[j])
			if !isFinite32(z) {
				return fmt.Errorf("[%d][%d] = %v standardizes to %v (mean %v, std %v)", i, j, x, z, mean[j], std[j])
			}
			row[j] = z
		}
	}
	return nil
}

// UnapplyY maps standardized targets (or predictions) back to original
// target units in place: y ← y·std + mean. y holds whole rows of O values.
// Without target statistics it does nothing. It panics if len(y) is not a
// multiple of O.
func (s *Standardizer) UnapplyY(y []float32) {
	if s.YMean == nil {
		return
	}
	o := len(s.YMean)
	if o == 0 || len(y)%o != 0 {
		panic(fmt.Sprintf("data: UnapplyY: len(y)=%d is not a multiple of %d targets", len(y), o))
	}
	for i := range y {
		j := i % o
		y[i] = float32(float64(y[i])*s.YStd[j] + s.YMean[j])
	}
}
