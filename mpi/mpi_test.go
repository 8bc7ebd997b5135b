//go:build mpi

package mpi

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// The tests run on every rank of a job: build them with
//
//	go test -tags mpi -c -o /tmp/mpi.test ./mpi
//	mpirun --allow-run-as-root -np 2 /tmp/mpi.test
//
// (go test -tags mpi ./mpi alone runs them as a job of one rank).
func TestMain(m *testing.M) {
	if err := Init(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := Finalize(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func TestRankSize(t *testing.T) {
	r, n := Rank(), Size()
	if n < 1 || r < 0 || r >= n {
		t.Fatalf("rank %d of %d", r, n)
	}
	if !Initialized() {
		t.Fatal("not initialized")
	}
}

func TestAllreduce(t *testing.T) {
	r, n := Rank(), Size()
	f32 := []float32{float32(r), 1, float32(-r)}
	if err := AllreduceFloat32(f32, Sum); err != nil {
		t.Fatal(err)
	}
	want := float32(n * (n - 1) / 2)
	if f32[0] != want || f32[1] != float32(n) || f32[2] != -want {
		t.Errorf("float32 sum: %v, want [%v %v %v]", f32, want, n, -want)
	}
	f64 := []float64{float64(r), -float64(r)}
	if err := AllreduceFloat64(f64, Max); err != nil {
		t.Fatal(err)
	}
	if f64[0] != float64(n-1) || f64[1] != 0 {
		t.Errorf("float64 max: %v, want [%d 0]", f64, n-1)
	}
	g := []float64{0.5 * float64(r+1)}
	if err := AllreduceFloat64(g, Sum); err != nil {
		t.Fatal(err)
	}
	if g[0] != 0.25*float64(n*(n+1)) {
		t.Errorf("float64 sum %v", g[0])
	}
	m32 := []float32{float32(r)}
	if err := AllreduceFloat32(m32, Max); err != nil || m32[0] != float32(n-1) {
		t.Errorf("float32 max %v %v", m32, err)
	}
	if err := AllreduceFloat32(nil, Sum); err != nil {
		t.Errorf("empty: %v", err)
	}
	if err := AllreduceFloat64(g, Op(7)); err == nil {
		t.Error("unknown op accepted")
	}
}

func TestAllgather(t *testing.T) {
	r, n := Rank(), Size()
	recv := make([]byte, 2*n)
	if err := Allgather([]byte{byte(r), byte(10 + r)}, recv); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < n; k++ {
		if recv[2*k] != byte(k) || recv[2*k+1] != byte(10+k) {
			t.Fatalf("allgather %v", recv)
		}
	}
	if err := Allgather([]byte{1}, make([]byte, n+1)); err == nil {
		t.Error("wrong receive size accepted")
	}
	// Variable lengths, rank r sends r bytes (rank 0 nothing).
	got, err := Allgatherv(bytes.Repeat([]byte{byte(r)}, r))
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < n; k++ {
		if !bytes.Equal(got[k], bytes.Repeat([]byte{byte(k)}, k)) {
			t.Fatalf("allgatherv block %d: %v", k, got[k])
		}
	}
}

func TestBcastBarrier(t *testing.T) {
	n := Size()
	root := n - 1
	buf := []byte("........")
	if Rank() == root {
		copy(buf, "from-end")
	}
	if err := Bcast(buf, root); err != nil {
		t.Fatal(err)
	}
	if string(buf) != "from-end" {
		t.Fatalf("bcast: %q", buf)
	}
	if err := Bcast(buf, n); err == nil {
		t.Error("root outside the job accepted")
	}
	if err := Barrier(); err != nil {
		t.Fatal(err)
	}
}

func TestComm(t *testing.T) {
	c := World()
	v := []float64{1}
	if err := c.AllreduceSum64(v); err != nil || v[0] != float64(c.Size()) {
		t.Fatalf("%v %v", v, err)
	}
}
