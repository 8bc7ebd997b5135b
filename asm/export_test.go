package asm

// ForcePath forces Sgemm's choice between the packed path and the paths
// that do not pack (benchmarks of package asm_test): "packed", "nopack"
// (dot for NT, ldb for NN where the level has it) or "auto" (the shape
// rule). It returns the undo.
func ForcePath(name string, transB bool) (undo func()) {
	p := map[string]nopackPath{"auto": nopackAuto, "packed": packed}[name]
	if name == "nopack" {
		p = nopackLdb
		if transB {
			p = nopackDot
		}
	}
	return withPath(p)
}
