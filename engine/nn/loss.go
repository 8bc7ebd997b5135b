package nn

import (
	"fmt"
	"math"
	"strings"
)

// Loss is the per-example loss ℓ(f, y) of the model's outputs f (Out
// values) against a target y (Out values).
//
//   - MSE (the zero value): ℓ = ½|f − y|², ∂ℓ/∂f = f − y.
//   - Xent, softmax cross-entropy over Out ≥ 2 classes: with
//     p = softmax(f), ℓ = −Σ_o y_o log p_o = logsumexp(f) − y·f when
//     Σ_o y_o = 1 (a one-hot class, or any probability vector), and
//     ∂ℓ/∂f = p − y. Binary classification is Xent over 2 classes.
//
// The loss travels with the model (Config.Loss), so that every pass that
// reads a model's shape — the stepper, the linearization, the samplers'
// scores, the evaluations — computes the same ℓ and ∂ℓ/∂f.
type Loss int

const (
	MSE Loss = iota
	Xent
)

func (l Loss) String() string {
	switch l {
	case MSE:
		return "mse"
	case Xent:
		return "xent"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// ParseLoss reads "mse" (or "") and "xent" (or "cross-entropy", "ce").
func ParseLoss(s string) (Loss, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "mse":
		return MSE, nil
	case "xent", "cross-entropy", "crossentropy", "ce", "softmax":
		return Xent, nil
	}
	return 0, fmt.Errorf("nn: unknown loss %q (want mse or xent)", s)
}

// Softmax sets p = softmax(f), computed stably in float64 (the maximum
// subtracted), and returns log Σ_o exp(f_o).
func Softmax(f []float32, p []float64) (logSumExp float64) {
	mx := math.Inf(-1)
	for _, v := range f {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for o, v := range f {
		e := math.Exp(float64(v) - mx)
		p[o] = e
		s += e
	}
	for o := range p[:len(f)] {
		p[o] /= s
	}
	return mx + math.Log(s)
}

// Residual sets r = ∂ℓ/∂f (scaled by s) of one example with outputs f and
// target y and returns ℓ; p is scratch of len(f) (Xent only). For MSE it
// is r = s·(f − y) and ℓ = ½|f − y|², accumulated exactly as the MSE
// paths always have (float32 differences, float64 squares).
func (l Loss) Residual(f, y []float32, s float32, r []float32, p []float64) float64 {
	if l == MSE {
		var v float64
		for o := range f {
			d := f[o] - y[o]
			v += 0.5 * float64(d) * float64(d)
			r[o] = s * d
		}
		return v
	}
	lse := Softmax(f, p)
	var v float64
	for o := range f {
		yo := float64(y[o])
		v += yo * (lse - float64(f[o]))
		r[o] = s * float32(p[o]-yo)
	}
	return v
}

// Value returns ℓ of one example; p is scratch of len(f) (Xent only).
func (l Loss) Value(f, y []float32, p []float64) float64 {
	if l == MSE {
		var v float64
		for o := range f {
			d := float64(f[o] - y[o])
			v += d * d
		}
		return 0.5 * v
	}
	lse := Softmax(f, p)
	var v float64
	for o := range f {
		v += float64(y[o]) * (lse - float64(f[o]))
	}
	return v
}

// ResidualNorm returns |∂ℓ/∂f| of one example: |f − y| (MSE) or
// |softmax(f) − y| (Xent); p is scratch of len(f) (Xent only).
func (l Loss) ResidualNorm(f, y []float32, p []float64) float64 {
	var v float64
	if l == MSE {
		for o := range f {
			d := float64(f[o] - y[o])
			v += d * d
		}
		return math.Sqrt(v)
	}
	Softmax(f, p)
	for o := range f {
		d := p[o] - float64(y[o])
		v += d * d
	}
	return math.Sqrt(v)
}

// Argmax returns the index of the largest of v (the first among equals).
func Argmax(v []float32) int {
	k := 0
	for o, x := range v {
		if x > v[k] {
			k = o
		}
	}
	return k
}
