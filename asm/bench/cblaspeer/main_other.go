//go:build !(cblas && cgo && linux)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "cblaspeer: build with -tags cblas (needs cgo, linux and libopenblas.so.0 at run time)")
	os.Exit(2)
}
