package cuda

import "github.com/ntklsh/ntklsh/engine/nn"

// Activation selects the elementwise nonlinearity of ActivationForward and
// ActivationBackward: the model's own nn.Activation, whose values are the
// kernels' "kind" argument (ReLU = 0: max(z, 0) with derivative [z > 0];
// Tanh = 1: tanh(z) with derivative 1 − tanh(z)²).
type Activation = nn.Activation

// The activations the kernels implement.
const (
	ReLU = nn.ReLU
	Tanh = nn.Tanh
)

// kernelNames lists the kernels of kernels.cu that the backend loads from
// kernels.ptx, in the order of the kernel IDs in backend.go.
var kernelNames = [...]string{
	"sign_pack", "row_sumsq", "row_dots", "dot_partial", "axpy",
	"act_forward", "act_backward", "bias_add", "col_sums_partial", "col_sums_final",
	"scale_mat",
}
