package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sample(seed uint64) *Checkpoint {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := Model{In: 3, Out: 2, Hidden: []int{4}, Activation: "relu"}
	P := m.numParams()
	c := &Checkpoint{Meta: Meta{Model: m, Normalization: &Normalization{XMean: []float64{1, 2, 3}, XStd: []float64{1, 1, 2}},
		Data: json.RawMessage(`{"format":"csv","target":0}`), Training: json.RawMessage(`{"iter":7}`)}}
	for i := 0; i < P; i++ {
		c.Params = append(c.Params, float32(rng.NormFloat64()))
		c.Velocity = append(c.Velocity, float32(rng.NormFloat64()))
		c.W0 = append(c.W0, float32(rng.NormFloat64()))
		c.PendingW0 = append(c.PendingW0, float32(rng.NormFloat64()))
	}
	return c
}

func encode(t testing.TB, c *Checkpoint) []byte {
	var b bytes.Buffer
	if err := Encode(&b, c); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRoundTrip(t *testing.T) {
	c := sample(1)
	dir := t.TempDir()
	if err := Write(dir, c); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(got.Params, c.Params) || !equal(got.Velocity, c.Velocity) || !equal(got.W0, c.W0) || !equal(got.PendingW0, c.PendingW0) {
		t.Fatal("tensors differ after a round trip")
	}
	// The optional tensors stay absent when they are.
	c2 := sample(2)
	c2.Velocity, c2.PendingW0 = nil, nil
	got2, err := decodeBytes(encode(t, c2))
	if err != nil || got2.Velocity != nil || got2.PendingW0 != nil || !equal(got2.W0, c2.W0) {
		t.Fatalf("optional tensors: %v, velocity %v, background %v", err, got2.Velocity, got2.PendingW0)
	}
	if got.Meta.Model.In != 3 || string(got.Meta.Training) != `{"iter":7}` || got.Meta.Normalization.XStd[2] != 2 {
		t.Fatalf("metadata differs: %+v", got.Meta)
	}
	js, err := os.ReadFile(filepath.Join(dir, JSONName))
	if err != nil || !strings.Contains(string(js), `"activation": "relu"`) {
		t.Fatalf("model.json: %v %s", err, js)
	}
	// Header is 8-byte aligned as the safetensors spec recommends.
	raw := encode(t, c)
	if hl := int(raw[0]) | int(raw[1])<<8; hl%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", hl)
	}
}

func decodeBytes(b []byte) (*Checkpoint, error) {
	return Decode(bytes.NewReader(b), int64(len(b)), "test.safetensors")
}

func TestTruncatedAtEveryLength(t *testing.T) {
	raw := encode(t, sample(2))
	for n := 0; n < len(raw); n++ {
		if _, err := decodeBytes(raw[:n]); err == nil {
			t.Fatalf("truncation to %d of %d bytes accepted", n, len(raw))
		}
	}
}

func TestCorruptedBytes(t *testing.T) {
	raw := encode(t, sample(3))
	rng := rand.New(rand.NewPCG(5, 5))
	for k := 0; k < 2000; k++ {
		b := append([]byte(nil), raw...)
		i := rng.IntN(len(b))
		b[i] ^= byte(1 + rng.IntN(255))
		c, err := decodeBytes(b)
		if err == nil {
			// A flip inside JSON white space or in a number's insignificant
			// formatting can leave a valid file; it must then be unchanged.
			ref, _ := decodeBytes(raw)
			if !equal(c.Params, ref.Params) {
				t.Fatalf("flip at byte %d silently changed the model", i)
			}
		}
	}
	// A flip in the tensor data is always caught by the checksum.
	b := append([]byte(nil), raw...)
	b[len(b)-3] ^= 0x10
	if _, err := decodeBytes(b); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("data corruption: %v", err)
	}
}

func TestFutureVersionAndForeignFile(t *testing.T) {
	c := sample(4)
	raw := encode(t, c)
	future := bytes.Replace(raw, []byte(`\"version\":1`), []byte(`\"version\":9`), 1)
	if bytes.Equal(future, raw) {
		t.Fatal("could not find the version in the header")
	}
	_, err := decodeBytes(future)
	if err == nil || !strings.Contains(err.Error(), "newer ntklsh") {
		t.Fatalf("future version: %v", err)
	}
	// A plain safetensors file without our metadata.
	hdr := []byte(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`)
	var b bytes.Buffer
	b.Write([]byte{byte(len(hdr)), 0, 0, 0, 0, 0, 0, 0})
	b.Write(hdr)
	b.Write([]byte{0, 0, 128, 63})
	if _, err := decodeBytes(b.Bytes()); err == nil || !strings.Contains(err.Error(), "no ntklsh metadata") {
		t.Fatalf("foreign file: %v", err)
	}
	if _, err := Read(t.TempDir()); err == nil || !strings.Contains(err.Error(), FileName) {
		t.Fatalf("missing file: %v", err)
	}
}

// failingWriter fails with ENOSPC after limit bytes, like a full disk.
type failingWriter struct {
	w     io.Writer
	limit int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n, _ := f.w.Write(p[:f.limit])
		f.limit = 0
		return n, syscall.ENOSPC
	}
	f.limit -= len(p)
	return f.w.Write(p)
}

func TestDiskFullKeepsPreviousCheckpoint(t *testing.T) {
	dir := t.TempDir()
	old := sample(5)
	if err := Write(dir, old); err != nil {
		t.Fatal(err)
	}
	defer func(w func(io.Writer) io.Writer) { wrapWriter = w }(wrapWriter)
	for _, limit := range []int{0, 7, 100, 300} {
		wrapWriter = func(w io.Writer) io.Writer { return &failingWriter{w: w, limit: limit} }
		err := Write(dir, sample(6))
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "previous checkpoint is intact") {
			t.Fatalf("limit %d: error %v", limit, err)
		}
		got, err := Read(dir)
		if err != nil || !equal(got.Params, old.Params) {
			t.Fatalf("limit %d: previous checkpoint lost: %v", limit, err)
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
	}
}

// stallingWriter writes half of the file, tells the parent, and hangs.
type stallingWriter struct {
	w       io.Writer
	n, half int
}

func (s *stallingWriter) Write(p []byte) (int, error) {
	if s.n+len(p) >= s.half {
		k := s.half - s.n
		s.w.Write(p[:k])
		if f, ok := s.w.(*os.File); ok {
			f.Sync()
		}
		fmt.Println("STALLED")
		time.Sleep(time.Hour)
	}
	s.n += len(p)
	return s.w.Write(p)
}

// TestKilledMidWrite runs this test binary as a child that starts writing a
// checkpoint over an existing one, kills it with SIGKILL half way, and
// checks that the previous checkpoint is intact and the next write works.
func TestKilledMidWrite(t *testing.T) {
	if dir := os.Getenv("NTKLSH_CKPT_CHILD"); dir != "" {
		c := sample(8)
		size := len(encode(t, c))
		wrapWriter = func(w io.Writer) io.Writer { return &stallingWriter{w: w, half: size / 2} }
		Write(dir, c)
		return
	}
	dir := t.TempDir()
	old := sample(7)
	if err := Write(dir, old); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidWrite$", "-test.v")
	cmd.Env = append(os.Environ(), "NTKLSH_CKPT_CHILD="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	stalled := false
	for sc.Scan() {
		if sc.Text() == "STALLED" {
			stalled = true
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !stalled {
		t.Fatal("child never reached the middle of the write")
	}
	ents, _ := os.ReadDir(dir)
	tmp := 0
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			tmp++
		}
	}
	if tmp == 0 {
		t.Fatal("the killed write left no temporary file: the test did not interrupt a write")
	}
	got, err := Read(dir)
	if err != nil || !equal(got.Params, old.Params) {
		t.Fatalf("previous checkpoint lost after a kill: %v", err)
	}
	if err := Write(dir, sample(9)); err != nil {
		t.Fatal(err)
	}
	ents, _ = os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("stale temporary %s not cleaned by the next write", e.Name())
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(f, sample(1)))
	raw := encode(f, sample(2))
	f.Add(raw[:len(raw)/2])
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeBytes(b)
		if err != nil {
			return
		}
		if len(c.Params) != c.Meta.Model.numParams() {
			t.Fatalf("decoded %d parameters for %d", len(c.Params), c.Meta.Model.numParams())
		}
	})
}

// TestOversizedHeaderNotWritten: a header the reader would refuse is never
// written, and the previous checkpoint stays.
func TestOversizedHeaderNotWritten(t *testing.T) {
	dir := t.TempDir()
	small := &Checkpoint{Meta: Meta{Model: Model{In: 1, Out: 1, Params: 2}}, Params: []float32{1, 2}}
	if err := Write(dir, small); err != nil {
		t.Fatal(err)
	}
	big := &Checkpoint{Meta: Meta{Model: Model{In: 1, Out: 1, Params: 2}, Training: []byte(`"` + strings.Repeat("x", maxHeader) + `"`)}, Params: []float32{3, 4}}
	if err := Write(dir, big); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Fatalf("oversized header: %v", err)
	}
	c, err := Read(dir)
	if err != nil || c.Params[0] != 1 {
		t.Fatalf("previous checkpoint: %v %v", err, c)
	}
}
