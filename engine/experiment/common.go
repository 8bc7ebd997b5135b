package experiment

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/kernels"
)

// Env is what every experiment needs besides its own configuration.
type Env struct {
	// Out is the directory the CSV files and plots are written to (created
	// when missing).
	Out     string
	Backend kernels.Backend
	// Progress reports phases and ETAs; nil or disabled means silent.
	Progress *Progress
	// Workers is the number of goroutines of rehashes and full passes (0:
	// GOMAXPROCS).
	Workers int
}

// Machine describes where the run happened, for the outputs.
func (e Env) Machine() string {
	return fmt.Sprintf("%s; GOMAXPROCS %d; backend %s; %s", kernels.CPUInfo(), runtime.GOMAXPROCS(0), e.Backend.Name(), runtime.Version())
}

func (e Env) path(name string) string { return filepath.Join(e.Out, name) }

func (e Env) mkdir() error { return os.MkdirAll(e.Out, 0o755) }

// Progress prints the current phase, how far it is and an ETA on a
// terminal, rewriting one line; it prints nothing when disabled (stderr
// not a terminal, or --quiet), so that CI logs stay clean.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	on      bool
	phase   string
	total   int
	done    int
	start   time.Time
	last    time.Time
	printed bool
}

// NewProgress returns a reporter writing to w when enabled.
func NewProgress(w io.Writer, enabled bool) *Progress {
	return &Progress{w: w, on: enabled && w != nil}
}

// Enabled says whether anything is printed.
func (p *Progress) Enabled() bool { return p != nil && p.on }

// Phase starts a phase of total steps.
func (p *Progress) Phase(name string, total int) {
	if !p.Enabled() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.printed {
		fmt.Fprintln(p.w)
	}
	p.phase, p.total, p.done = name, total, 0
	p.start = time.Now()
	p.last = time.Time{}
	p.printed = false
	p.draw(true)
}

// Step advances the phase by n steps.
func (p *Progress) Step(n int) {
	if !p.Enabled() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.draw(p.done >= p.total)
}

// Note prints a line above the progress line.
func (p *Progress) Note(format string, a ...any) {
	if !p.Enabled() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\x1b[K"+format+"\n", a...)
	p.printed = false
	p.draw(true)
}

// Done ends the current line.
func (p *Progress) Done() {
	if !p.Enabled() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.printed {
		fmt.Fprintln(p.w)
	}
	p.printed = false
}

func (p *Progress) draw(force bool) {
	now := time.Now()
	if !force && now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	el := now.Sub(p.start)
	eta := "?"
	if p.done > 0 && p.total > 0 {
		rem := time.Duration(float64(el) * float64(p.total-p.done) / float64(p.done))
		eta = rem.Round(time.Second).String()
	}
	pct := 0.0
	if p.total > 0 {
		pct = 100 * float64(p.done) / float64(p.total)
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s: %d/%d (%.0f%%) elapsed %s ETA %s", p.phase, p.done, p.total, pct, el.Round(time.Second), eta)
	p.printed = true
}

// csvFile writes rows to a CSV file with a header.
type csvFile struct {
	f   *os.File
	w   *csv.Writer
	err error
}

func createCSV(path string, header []string) (*csvFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	c := &csvFile{f: f, w: csv.NewWriter(f)}
	c.err = c.w.Write(header)
	return c, nil
}

func (c *csvFile) row(fields ...any) {
	if c.err != nil {
		return
	}
	rec := make([]string, len(fields))
	for i, v := range fields {
		rec[i] = fmtField(v)
	}
	c.err = c.w.Write(rec)
}

func fmtField(v any) string {
	switch x := v.(type) {
	case float64:
		return fnum(x)
	case float32:
		return fnum(float64(x))
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func fnum(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	return strconv.FormatFloat(x, 'g', 6, 64)
}

func (c *csvFile) close() error {
	c.w.Flush()
	if c.err == nil {
		c.err = c.w.Error()
	}
	if err := c.f.Close(); c.err == nil {
		c.err = err
	}
	if c.err != nil {
		return fmt.Errorf("writing %s: %w", c.f.Name(), c.err)
	}
	return nil
}

// Stats of a sample.
func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) > 1 {
		for _, x := range v {
			std += (x - mean) * (x - mean)
		}
		std = math.Sqrt(std / float64(len(v)-1))
	}
	return mean, std
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return
}

// median is Median, for the package's own use.
func median(v []float64) float64 { return Median(v) }

// Median returns the median of the values of v that are not NaN (NaN when
// there are none).
func Median(v []float64) float64 {
	w := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) {
			w = append(w, x)
		}
	}
	if len(w) == 0 {
		return math.NaN()
	}
	sort.Float64s(w)
	if len(w)%2 == 1 {
		return w[len(w)/2]
	}
	return (w[len(w)/2-1] + w[len(w)/2]) / 2
}

// geoMean is the geometric mean of the positive finite values of v (+Inf
// if any value is +Inf).
func geoMean(v []float64) float64 {
	var s float64
	n := 0
	for _, x := range v {
		if math.IsInf(x, 1) {
			return math.Inf(1)
		}
		if x > 0 && !math.IsNaN(x) {
			s += math.Log(x)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Exp(s / float64(n))
}

// TeacherSet generates the synthetic teacher set and splits testFrac off
// (0: no test set), standardizing features and targets on the training
// part, as `ntklsh train` does.
func TeacherSet(cfg data.TeacherConfig, testFrac float64) (train, test *data.Dataset, err error) {
	all, err := data.Teacher(cfg)
	if err != nil {
		return nil, nil, err
	}
	return Prepare(all, testFrac, cfg.Seed)
}

// Prepare splits and standardizes a loaded data set.
func Prepare(all *data.Dataset, testFrac float64, seed uint64) (train, test *data.Dataset, err error) {
	train = all
	if testFrac > 0 {
		if train, test, err = data.Split(all, testFrac, seed); err != nil {
			return nil, nil, err
		}
	}
	norm := data.FitStandardizer(train, len(all.Classes) == 0)
	if err := norm.Apply(train); err != nil {
		return nil, nil, err
	}
	if test != nil {
		if err := norm.Apply(test); err != nil {
			return nil, nil, err
		}
	}
	return train, test, nil
}

// scaledLR returns base for widths up to 32 and base·32/width above: under
// the standard parametrization the NTK grows linearly with the width, so a
// fixed step size diverges on wide models.
func scaledLR(base float64, width int) float64 {
	if width <= 32 {
		return base
	}
	return base * 32 / float64(width)
}

// normalize returns v / Σv (a copy); all zeros give uniform.
func normalize(v []float64) []float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	out := make([]float64, len(v))
	for i, x := range v {
		if s > 0 {
			out[i] = x / s
		} else {
			out[i] = 1 / float64(len(v))
		}
	}
	return out
}

// mix returns (1−ε)p + ε/N.
func mix(p []float64, eps float64) []float64 {
	out := make([]float64, len(p))
	n := float64(len(p))
	for i, x := range p {
		out[i] = (1-eps)*x + eps/n
	}
	return out
}

// KL returns KL(p ‖ q) for two distributions given unnormalized (both are
// renormalized); +Inf when q is 0 where p is not.
func KL(p, q []float64) float64 {
	pp, qq := normalize(p), normalize(q)
	var kl float64
	for i, x := range pp {
		if x <= 0 {
			continue
		}
		if qq[i] <= 0 {
			return math.Inf(1)
		}
		kl += x * math.Log(x/qq[i])
	}
	return kl
}

func writeText(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

// columns aligns the evaluation rows of several runs (truncated to the
// shortest): the iteration of each row, and per row the values of every run
// of the training seconds and of pick.
func columns(runs [][]engine.Eval, pick func(engine.Eval) float64) (iters []float64, secs, vals [][]float64) {
	if len(runs) == 0 {
		return
	}
	n := len(runs[0])
	for _, r := range runs {
		n = min(n, len(r))
	}
	for k := 0; k < n; k++ {
		var l, t []float64
		for _, r := range runs {
			l = append(l, pick(r[k]))
			t = append(t, r[k].TrainSeconds)
		}
		iters = append(iters, float64(runs[0][k].Iter))
		secs, vals = append(secs, t), append(vals, l)
	}
	return
}
