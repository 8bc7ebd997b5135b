package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Activation is the nonlinearity of the hidden layers.
type Activation int

const (
	ReLU Activation = iota
	Tanh
)

func (a Activation) String() string {
	switch a {
	case ReLU:
		return "relu"
	case Tanh:
		return "tanh"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ParseActivation reads "relu" or "tanh".
func ParseActivation(s string) (Activation, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "relu":
		return ReLU, nil
	case "tanh":
		return Tanh, nil
	}
	return 0, fmt.Errorf("nn: unknown activation %q (want relu or tanh)", s)
}

// Config describes an MLP. Hidden may be empty: the model is then linear,
// f(x) = W x + b, the setting of Chen et al. (2019).
type Config struct {
	In, Out    int
	Hidden     []int
	Activation Activation
	Seed       uint64
	// Loss is the training loss of the outputs (loss.go); MSE, the zero
	// value, unless set. Xent needs Out ≥ 2.
	Loss Loss
}

// MaxWidth bounds every layer width; it guards against absurd flags.
const MaxWidth = 1 << 20

// Validate checks the sizes.
func (c Config) Validate() error {
	if c.In < 1 || c.In > MaxWidth {
		return fmt.Errorf("nn: input width %d outside [1, %d]", c.In, MaxWidth)
	}
	if c.Out < 1 || c.Out > MaxWidth {
		return fmt.Errorf("nn: output width %d outside [1, %d]", c.Out, MaxWidth)
	}
	for i, h := range c.Hidden {
		if h < 1 || h > MaxWidth {
			return fmt.Errorf("nn: hidden layer %d width %d outside [1, %d]", i+1, h, MaxWidth)
		}
	}
	if c.Activation != ReLU && c.Activation != Tanh {
		return fmt.Errorf("nn: unknown activation %d", int(c.Activation))
	}
	switch c.Loss {
	case MSE:
	case Xent:
		if c.Out < 2 {
			return fmt.Errorf("nn: the xent loss needs at least 2 outputs (classes), not %d; binary classification is 2 classes", c.Out)
		}
	default:
		return fmt.Errorf("nn: unknown loss %d", int(c.Loss))
	}
	p := 0
	prev := c.In
	for _, h := range append(append([]int(nil), c.Hidden...), c.Out) {
		p += h*prev + h
		prev = h
		if p > math.MaxInt32 {
			return errors.New("nn: more than 2^31 parameters")
		}
	}
	return nil
}

// MLP is a multilayer perceptron with float32 parameters.
type MLP struct {
	Config
	// Sizes are the layer widths: Sizes[0] = In, Sizes[Layers()] = Out.
	Sizes []int
	// Params holds all weights and biases (see the package doc for the layout).
	Params []float32
	offW   []int // offset of W_l in Params, index l = 1..Layers
	offB   []int // offset of b_l
}

// New builds an MLP with seeded initialization: W_l ~ N(0, g/fan_in) with
// g = 2 for ReLU hidden layers and 1 otherwise, b_l = 0.
func New(cfg Config) (*MLP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := Layout(cfg)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6e746b6c7368))
	for l := 1; l <= m.Layers(); l++ {
		fanIn := m.Sizes[l-1]
		gain := 1.0
		if l < m.Layers() && cfg.Activation == ReLU {
			gain = 2
		}
		std := math.Sqrt(gain / float64(fanIn))
		for i := range m.W(l) {
			m.W(l)[i] = float32(rng.NormFloat64() * std)
		}
	}
	return m, nil
}

// Layout returns an MLP with zero parameters and the given shape; cfg must
// be valid.
func Layout(cfg Config) *MLP {
	m := &MLP{Config: cfg}
	m.Config.Hidden = append([]int(nil), cfg.Hidden...)
	m.Sizes = append(append([]int{cfg.In}, cfg.Hidden...), cfg.Out)
	L := len(m.Sizes) - 1
	m.offW = make([]int, L+1)
	m.offB = make([]int, L+1)
	p := 0
	for l := 1; l <= L; l++ {
		m.offW[l] = p
		p += m.Sizes[l] * m.Sizes[l-1]
		m.offB[l] = p
		p += m.Sizes[l]
	}
	m.Params = make([]float32, p)
	return m
}

// Layers is the number of affine layers (hidden layers + 1).
func (m *MLP) Layers() int { return len(m.Sizes) - 1 }

// NumParams is P, the length of Params.
func (m *MLP) NumParams() int { return len(m.Params) }

// W returns W_l (Sizes[l] × Sizes[l−1], row-major) as a view into Params.
func (m *MLP) W(l int) []float32 { return m.Params[m.offW[l]:m.offB[l]] }

// B returns b_l as a view into Params.
func (m *MLP) B(l int) []float32 { return m.Params[m.offB[l] : m.offB[l]+m.Sizes[l]] }

// WOf and BOf return the blocks of layer l of any parameter-shaped vector
// (a gradient, a velocity, w − w0).
func (m *MLP) WOf(v []float32, l int) []float32 { return v[m.offW[l]:m.offB[l]] }
func (m *MLP) BOf(v []float32, l int) []float32 { return v[m.offB[l] : m.offB[l]+m.Sizes[l]] }

// WeightOffset returns the offset in Params (or any parameter-shaped
// vector) of W_l, l = 1..Layers: W_l is the Sizes[l] × Sizes[l−1] row-major
// block that starts there. BiasOffset returns that of b_l (Sizes[l] values),
// which follows W_l. Backends that keep the parameters elsewhere (a GPU) use
// these instead of recomputing the layout.
func (m *MLP) WeightOffset(l int) int { return m.offW[l] }

// BiasOffset returns the offset of b_l in Params (see WeightOffset).
func (m *MLP) BiasOffset(l int) int { return m.offB[l] }

// Clone returns a deep copy.
func (m *MLP) Clone() *MLP {
	c := Layout(m.Config)
	copy(c.Params, m.Params)
	return c
}

// String describes the architecture, e.g. "90-256(relu)-1, P=23553".
func (m *MLP) String() string {
	var b strings.Builder
	for i, s := range m.Sizes {
		if i > 0 {
			b.WriteByte('-')
		}
		fmt.Fprint(&b, s)
	}
	if len(m.Hidden) > 0 {
		fmt.Fprintf(&b, " (%s)", m.Activation)
	}
	fmt.Fprintf(&b, ", P=%d", m.NumParams())
	return b.String()
}
