//go:build !amd64 || !gc || noasm || purego

package main

import "fmt"

func main() { fmt.Println("fmapeak measures amd64 (gc, without the noasm or purego tag) only") }
