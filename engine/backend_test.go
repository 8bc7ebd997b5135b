package engine

import "github.com/ntklsh/ntklsh/kernels"

// testBackend is the backend the engine tests run on: the process default,
// so that NTKLSH_KERNELS=generic, -tags noasm and -tags purego run the whole
// suite on the generic path and a plain run on the best one (CI does all
// four).
var testBackend = func() kernels.Backend {
	b, _, err := kernels.Default()
	if err != nil {
		panic(err)
	}
	return b
}()
