module github.com/ntklsh/ntklsh

go 1.26

require (
	github.com/klauspost/cpuid/v2 v2.4.2
	gonum.org/v1/gonum v0.17.0
)

require (
	github.com/google/uuid v1.1.1 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	golang.org/x/sys v0.41.0 // indirect
	gorgonia.org/cu v0.9.6 // indirect
)
