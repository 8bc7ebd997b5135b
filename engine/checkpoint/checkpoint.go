package checkpoint

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Format and Version identify the file; a larger Version than this build
// knows is refused.
const (
	Format   = "ntklsh-checkpoint"
	Version  = 1
	FileName = "checkpoint.safetensors"
	JSONName = "model.json"
	// maxHeader bounds the JSON header so that a corrupt length cannot make
	// the reader allocate without limit.
	maxHeader = 64 << 20
)

// Model describes the architecture.
type Model struct {
	In         int    `json:"in"`
	Out        int    `json:"out"`
	Hidden     []int  `json:"hidden"`
	Activation string `json:"activation"`
	Params     int    `json:"params"`
	// Loss is the training loss when not mse ("xent": the outputs are
	// logits, softmax gives the class probabilities).
	Loss string `json:"loss,omitempty"`
}

// Normalization holds the statistics fitted on the training set:
// x' = (x − XMean)/XStd, y' = (y − YMean)/YStd (Y* empty when targets are
// not standardized).
type Normalization struct {
	XMean []float64 `json:"x_mean,omitempty"`
	XStd  []float64 `json:"x_std,omitempty"`
	YMean []float64 `json:"y_mean,omitempty"`
	YStd  []float64 `json:"y_std,omitempty"`
}

// Meta is the JSON stored in the file's metadata.
type Meta struct {
	Format        string          `json:"format"`
	Version       int             `json:"version"`
	Model         Model           `json:"model"`
	Normalization *Normalization  `json:"normalization,omitempty"`
	Data          json.RawMessage `json:"data,omitempty"`     // how the features were read (the CLI's options)
	Training      json.RawMessage `json:"training,omitempty"` // configuration and state of an unfinished run
	SHA256        string          `json:"sha256"`             // of the tensor data section
}

// Checkpoint is a model, optionally with the training state that goes with it.
type Checkpoint struct {
	Meta     Meta
	Params   []float32 // nn.MLP layout: per layer W (out×in) then b
	Velocity []float32 // nil when absent
	W0       []float32 // nil when absent
	// PendingW0 is the parameter snapshot of a background rehash in
	// flight (nil when none).
	PendingW0 []float32
}

type tensorInfo struct {
	Dtype       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

type namedTensor struct {
	name  string
	shape []int64
	data  []float32
}

// sizes returns the layer widths of m.
func (m Model) sizes() []int {
	return append(append([]int{m.In}, m.Hidden...), m.Out)
}

// numParams is the parameter count of the architecture.
func (m Model) numParams() int {
	s := m.sizes()
	p := 0
	for l := 1; l < len(s); l++ {
		p += s[l]*s[l-1] + s[l]
	}
	return p
}

func (c *Checkpoint) tensors() ([]namedTensor, error) {
	m := c.Meta.Model
	P := m.numParams()
	if len(c.Params) != P {
		return nil, fmt.Errorf("checkpoint: %d parameters for an architecture of %d", len(c.Params), P)
	}
	var ts []namedTensor
	s := m.sizes()
	off := 0
	for l := 1; l < len(s); l++ {
		w := s[l] * s[l-1]
		ts = append(ts, namedTensor{fmt.Sprintf("layers.%d.weight", l-1), []int64{int64(s[l]), int64(s[l-1])}, c.Params[off : off+w]})
		off += w
		ts = append(ts, namedTensor{fmt.Sprintf("layers.%d.bias", l-1), []int64{int64(s[l])}, c.Params[off : off+s[l]]})
		off += s[l]
	}
	for _, x := range []struct {
		name string
		v    []float32
	}{{"optimizer.velocity", c.Velocity}, {"rehash.w0", c.W0}, {"background.w0", c.PendingW0}} {
		if x.v == nil {
			continue
		}
		if len(x.v) != P {
			return nil, fmt.Errorf("checkpoint: %s has %d values, want %d", x.name, len(x.v), P)
		}
		ts = append(ts, namedTensor{x.name, []int64{int64(P)}, x.v})
	}
	return ts, nil
}

// Encode writes c in the safetensors format.
func Encode(w io.Writer, c *Checkpoint) error {
	ts, err := c.tensors()
	if err != nil {
		return err
	}
	// Data section and its digest.
	var total int64
	for _, t := range ts {
		total += int64(len(t.data)) * 4
	}
	h := sha256.New()
	buf := make([]byte, 0, 1<<16)
	header := map[string]any{}
	var off int64
	for _, t := range ts {
		n := int64(len(t.data)) * 4
		header[t.name] = tensorInfo{Dtype: "F32", Shape: t.shape, DataOffsets: [2]int64{off, off + n}}
		off += n
		for _, v := range t.data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) >= 1<<16 {
				h.Write(buf)
				buf = buf[:0]
			}
		}
	}
	h.Write(buf)
	meta := c.Meta
	meta.Format, meta.Version = Format, Version
	meta.Model.Params = c.Meta.Model.numParams()
	meta.SHA256 = hex.EncodeToString(h.Sum(nil))
	mj, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("checkpoint: encoding metadata: %w", err)
	}
	header["__metadata__"] = map[string]string{"ntklsh": string(mj)}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("checkpoint: encoding header: %w", err)
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	if len(hj) > maxHeader {
		// Decode would refuse it: never write what cannot be read back.
		return fmt.Errorf("checkpoint: the header (metadata and training state) is %d bytes, over the %d-byte limit the reader accepts", len(hj), maxHeader)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var lenb [8]byte
	binary.LittleEndian.PutUint64(lenb[:], uint64(len(hj)))
	bw.Write(lenb[:])
	bw.Write(hj)
	buf = buf[:0]
	for _, t := range ts {
		for _, v := range t.data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) >= 1<<16 {
				if _, err := bw.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	return bw.Flush()
}

// CorruptError says what is wrong with a checkpoint file.
type CorruptError struct {
	File string
	Msg  string
}

func (e *CorruptError) Error() string { return e.File + ": not a valid ntklsh checkpoint: " + e.Msg }

// Decode reads a checkpoint of size bytes from r; name is used in errors.
func Decode(r io.Reader, size int64, name string) (*Checkpoint, error) {
	bad := func(f string, a ...any) error { return &CorruptError{name, fmt.Sprintf(f, a...)} }
	if size < 8 {
		return nil, bad("file of %d bytes is too short", size)
	}
	var lenb [8]byte
	if _, err := io.ReadFull(r, lenb[:]); err != nil {
		return nil, bad("reading the header length: %v", err)
	}
	hl := binary.LittleEndian.Uint64(lenb[:])
	if hl == 0 || hl > maxHeader || int64(hl) > size-8 {
		return nil, bad("header length %d does not fit a file of %d bytes (truncated?)", hl, size)
	}
	hj := make([]byte, hl)
	if _, err := io.ReadFull(r, hj); err != nil {
		return nil, bad("reading the header: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hj, &raw); err != nil {
		return nil, bad("header is not JSON: %v", err)
	}
	var md map[string]string
	if err := json.Unmarshal(raw["__metadata__"], &md); err != nil || md["ntklsh"] == "" {
		return nil, bad("no ntklsh metadata (a safetensors file from another program?)")
	}
	var meta Meta
	if err := json.Unmarshal([]byte(md["ntklsh"]), &meta); err != nil {
		return nil, bad("metadata is not valid JSON: %v", err)
	}
	if meta.Format != Format {
		return nil, bad("format %q, want %q", meta.Format, Format)
	}
	if meta.Version > Version {
		return nil, fmt.Errorf("%s: checkpoint format version %d was written by a newer ntklsh; this build reads version %d and older", name, meta.Version, Version)
	}
	if meta.Version < 1 {
		return nil, bad("format version %d", meta.Version)
	}
	m := meta.Model
	if m.In < 1 || m.Out < 1 || m.In > 1<<20 || m.Out > 1<<20 || len(m.Hidden) > 1000 {
		return nil, bad("architecture in=%d out=%d with %d hidden layers", m.In, m.Out, len(m.Hidden))
	}
	for _, w := range m.Hidden {
		if w < 1 || w > 1<<20 {
			return nil, bad("hidden width %d", w)
		}
	}
	dataLen := size - 8 - int64(hl)
	P := int64(0)
	{
		s := m.sizes()
		for l := 1; l < len(s); l++ {
			P += int64(s[l])*int64(s[l-1]) + int64(s[l])
			if P*4 > dataLen {
				return nil, bad("architecture needs more than the %d data bytes present (truncated?)", dataLen)
			}
		}
	}
	// Tensor table: check every entry before reading any data.
	type entry struct {
		name string
		info tensorInfo
	}
	var entries []entry
	for k, v := range raw {
		if k == "__metadata__" {
			continue
		}
		var ti tensorInfo
		if err := json.Unmarshal(v, &ti); err != nil {
			return nil, bad("tensor %q: %v", k, err)
		}
		if ti.Dtype != "F32" {
			return nil, bad("tensor %q has dtype %q, want F32", k, ti.Dtype)
		}
		n := int64(1)
		for _, d := range ti.Shape {
			if d < 0 || d > dataLen {
				return nil, bad("tensor %q has shape %v", k, ti.Shape)
			}
			n *= d
			if n > dataLen {
				return nil, bad("tensor %q has shape %v larger than the file", k, ti.Shape)
			}
		}
		b, e := ti.DataOffsets[0], ti.DataOffsets[1]
		if b < 0 || e < b || e > dataLen || e-b != 4*n {
			return nil, bad("tensor %q has data offsets [%d, %d] for shape %v in %d data bytes (truncated?)", k, b, e, ti.Shape, dataLen)
		}
		entries = append(entries, entry{k, ti})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].info.DataOffsets[0] < entries[j].info.DataOffsets[0] })
	var pos int64
	for _, e := range entries {
		if e.info.DataOffsets[0] != pos {
			return nil, bad("tensor %q starts at %d, want %d (gap or overlap)", e.name, e.info.DataOffsets[0], pos)
		}
		pos = e.info.DataOffsets[1]
	}
	if pos != dataLen {
		return nil, bad("tensors cover %d of %d data bytes", pos, dataLen)
	}
	data := make([]byte, dataLen)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, bad("reading %d data bytes: %v (truncated?)", dataLen, err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != meta.SHA256 {
		return nil, bad("SHA-256 of the tensor data does not match its metadata (corrupted)")
	}
	get := func(name string) []float32 {
		for _, e := range entries {
			if e.name == name {
				b := data[e.info.DataOffsets[0]:e.info.DataOffsets[1]]
				v := make([]float32, len(b)/4)
				for i := range v {
					v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
				}
				return v
			}
		}
		return nil
	}
	c := &Checkpoint{Meta: meta, Params: make([]float32, 0, P)}
	s := m.sizes()
	for l := 1; l < len(s); l++ {
		for _, part := range []struct {
			name  string
			shape []int64
		}{{fmt.Sprintf("layers.%d.weight", l-1), []int64{int64(s[l]), int64(s[l-1])}}, {fmt.Sprintf("layers.%d.bias", l-1), []int64{int64(s[l])}}} {
			var ti *tensorInfo
			for i := range entries {
				if entries[i].name == part.name {
					ti = &entries[i].info
				}
			}
			if ti == nil {
				return nil, bad("tensor %q is missing", part.name)
			}
			if fmt.Sprint(ti.Shape) != fmt.Sprint(part.shape) {
				return nil, bad("tensor %q has shape %v, the architecture wants %v", part.name, ti.Shape, part.shape)
			}
			c.Params = append(c.Params, get(part.name)...)
		}
	}
	c.Velocity, c.W0, c.PendingW0 = get("optimizer.velocity"), get("rehash.w0"), get("background.w0")
	for _, x := range []struct {
		name string
		v    []float32
	}{{"optimizer.velocity", c.Velocity}, {"rehash.w0", c.W0}, {"background.w0", c.PendingW0}} {
		if x.v != nil && int64(len(x.v)) != P {
			return nil, bad("%s has %d values, want %d", x.name, len(x.v), P)
		}
	}
	for i, v := range c.Params {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, bad("parameter %d is %v", i, v)
		}
	}
	return c, nil
}

// Read loads DIR/checkpoint.safetensors.
func Read(dir string) (*Checkpoint, error) {
	p := filepath.Join(dir, FileName)
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return Decode(bufio.NewReaderSize(f, 1<<16), st.Size(), p)
}

// wrapWriter lets tests inject write failures; identity otherwise.
var wrapWriter = func(w io.Writer) io.Writer { return w }

// Write stores c as DIR/checkpoint.safetensors (and DIR/model.json),
// creating DIR if needed, without ever damaging the previous checkpoint.
func Write(dir string, c *Checkpoint) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	removeStale(dir)
	if err := writeAtomic(dir, FileName, func(w io.Writer) error { return Encode(w, c) }); err != nil {
		return err
	}
	desc := struct {
		Format        string          `json:"format"`
		Version       int             `json:"version"`
		Model         Model           `json:"model"`
		Normalization *Normalization  `json:"normalization,omitempty"`
		Data          json.RawMessage `json:"data,omitempty"`
		Tensors       string          `json:"tensors"`
	}{Format, Version, c.Meta.Model, c.Meta.Normalization, c.Meta.Data,
		"layers.{i}.weight [out,in] and layers.{i}.bias [out] in " + FileName + "; hidden layers apply " + c.Meta.Model.Activation + ", the last layer is linear"}
	desc.Model.Params = c.Meta.Model.numParams()
	return writeAtomic(dir, JSONName, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(desc)
	})
}

func removeStale(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".tmp-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// writeAtomic writes DIR/name through a temporary file, fsync and rename.
func writeAtomic(dir, name string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("checkpoint: writing %s (the previous checkpoint is intact): %w", filepath.Join(dir, name), err)
		}
	}()
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = write(wrapWriter(tmp)); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
