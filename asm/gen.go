package asm

// The avo generators live in the module ./_gen (so that this module does
// not depend on avo); `go generate ./asm` rewrites these files, which are
// committed, and .ci/run fails when re-running it changes them.
//
//go:generate go run -C _gen . -kernel dot -out ../dot_amd64.s
//go:generate go run -C _gen . -kernel sqdist -out ../sqdist_amd64.s
//go:generate go run -C _gen . -kernel rowdots -out ../rowdots_amd64.s
//go:generate go run -C _gen . -kernel rowsumsquares -out ../rowsumsquares_amd64.s
//go:generate go run -C _gen . -kernel axpy -out ../axpy_amd64.s
//go:generate go run -C _gen . -kernel relu -out ../relu_amd64.s
//go:generate go run -C _gen . -kernel signpack -out ../signpack_amd64.s
//go:generate go run -C _gen . -kernel sgemm -out ../sgemmkernel_amd64.s
//go:generate go run -C _gen . -kernel packa -out ../packa_amd64.s
//go:generate go run -C _gen . -kernel packat -out ../packat_amd64.s
//go:generate go run -C _gen . -kernel packbt -out ../packbt_amd64.s
//go:generate go run -C _gen . -kernel packb -out ../packb_amd64.s
//go:generate go run -C _gen . -kernel biasrelu -out ../biasrelu_amd64.s
//go:generate go run -C _gen . -kernel axpy512 -out ../axpy_avx512_amd64.s
//go:generate go run -C _gen . -kernel relu512 -out ../relu_avx512_amd64.s
//go:generate go run -C _gen . -kernel signpack512 -out ../signpack_avx512_amd64.s
//go:generate go run -C _gen . -kernel sgemm512 -out ../sgemmkernel_avx512_amd64.s
//go:generate go run -C _gen . -kernel gemv -out ../gemv_amd64.s
//go:generate go run -C _gen . -kernel dotgemm -out ../dotgemm_amd64.s
//go:generate go run -C _gen . -kernel maskedrownorms -out ../maskedrownorms_amd64.s
