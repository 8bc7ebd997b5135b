//go:build !amd64 || !gc

package main

import "fmt"

func main() { fmt.Println("fmapeak measures amd64 (gc) only") }
