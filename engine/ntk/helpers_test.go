package ntk

import (
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/internal/testset"
	"github.com/ntklsh/ntklsh/kernels"
)

var testBackend = func() kernels.Backend {
	b, _, err := kernels.Default()
	if err != nil {
		panic(err)
	}
	return b
}()

// smallTeacher is the tests' heavy-tailed teacher set (testset.SmallTeacher).
func smallTeacher(n, d, out int, seed uint64) *data.Dataset {
	return testset.SmallTeacher(testBackend, n, d, out, seed)
}
