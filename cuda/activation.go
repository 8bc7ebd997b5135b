package cuda

// Activation selects the elementwise nonlinearity of ActivationForward and
// ActivationBackward. The values match the kernel's "kind" argument.
type Activation int

const (
	// ReLU is max(z, 0); its derivative is taken as [z > 0] (0 at z = 0).
	ReLU Activation = iota
	// Tanh is tanh(z), with derivative 1 − tanh(z)².
	Tanh
)

// String returns "relu" or "tanh".
func (a Activation) String() string {
	switch a {
	case ReLU:
		return "relu"
	case Tanh:
		return "tanh"
	}
	return "Activation(?)"
}

// kernelNames lists the kernels of kernels.cu that the backend loads from
// kernels.ptx, in the order of the kernel IDs in backend.go.
var kernelNames = [...]string{
	"sign_pack", "row_sumsq", "row_dots", "dot_partial", "axpy",
	"act_forward", "act_backward", "bias_add", "col_sums_partial", "col_sums_final",
	"scale_mat",
}
