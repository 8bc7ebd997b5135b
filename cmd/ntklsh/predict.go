package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/ntklsh/ntklsh/engine/checkpoint"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// loadedModel is a checkpoint turned back into a model with its data handling.
type loadedModel struct {
	m    *nn.MLP
	norm *checkpoint.Normalization
	spec dataSpec
}

func loadModel(dir string) (*loadedModel, error) {
	c, err := checkpoint.Read(dir)
	if err != nil {
		return nil, err
	}
	act, err := nn.ParseActivation(c.Meta.Model.Activation)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	cfg := nn.Config{In: c.Meta.Model.In, Out: c.Meta.Model.Out, Hidden: c.Meta.Model.Hidden, Activation: act}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	m := nn.Layout(cfg)
	copy(m.Params, c.Params)
	lm := &loadedModel{m: m, norm: c.Meta.Normalization}
	if len(c.Meta.Data) > 0 {
		if err := json.Unmarshal(c.Meta.Data, &lm.spec); err != nil {
			return nil, fmt.Errorf("%s: data description: %w", dir, err)
		}
	}
	n := lm.norm
	if n != nil && (len(n.XMean) != cfg.In || len(n.XStd) != cfg.In || len(n.YMean) != len(n.YStd) || len(n.YMean) != 0 && len(n.YMean) != cfg.Out) {
		return nil, fmt.Errorf("%s: normalization statistics do not match the model's %d inputs and %d outputs", dir, cfg.In, cfg.Out)
	}
	return lm, nil
}

// readLike reads a data file the way the model's training data was read
// and standardizes its features; targets stay in original units, with
// one-hot columns mapped onto the training classes.
func (lm *loadedModel) readLike(path, format string) (*data.Dataset, error) {
	sp := lm.spec
	if format == "" {
		format = sp.Format
	}
	hdr := data.HeaderAuto
	switch sp.Header {
	case "yes", "true":
		hdr = data.HeaderYes
	case "no", "false":
		hdr = data.HeaderNo
	}
	targets := sp.Targets
	if targets == 0 {
		targets = 1
	}
	d, err := data.Load(path, format, data.CSVOptions{Target: sp.Target, Targets: targets, Header: hdr, OneHot: sp.OneHot},
		data.LIBSVMOptions{Features: lm.m.In, OneHot: sp.OneHot})
	if err != nil {
		return nil, err
	}
	if d.D != lm.m.In {
		return nil, fmt.Errorf("%s has %d features, the model was trained on %d", path, d.D, lm.m.In)
	}
	if sp.OneHot > 0 && len(sp.Classes) > 0 {
		if err := remapClasses(d, sp.Classes, path); err != nil {
			return nil, err
		}
	}
	if d.O != lm.m.Out {
		return nil, fmt.Errorf("%s has %d targets, the model has %d outputs", path, d.O, lm.m.Out)
	}
	if lm.norm != nil {
		st := &data.Standardizer{XMean: lm.norm.XMean, XStd: lm.norm.XStd}
		if err := st.Apply(d); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return d, nil
}

// remapClasses rewrites d's one-hot targets (over d.Classes) onto the
// training classes.
func remapClasses(d *data.Dataset, classes []float64, path string) error {
	idx := map[float64]int{}
	for i, c := range classes {
		idx[c] = i
	}
	y := make([]float32, d.N*len(classes))
	for i := 0; i < d.N; i++ {
		for j := 0; j < d.O; j++ {
			if d.Y[i*d.O+j] != 1 {
				continue
			}
			k, ok := idx[d.Classes[j]]
			if !ok {
				return fmt.Errorf("%s: class label %v (row %d) was not among the training classes %v", path, d.Classes[j], i+1, classes)
			}
			y[i*len(classes)+k] = 1
		}
	}
	d.Y, d.O, d.Classes = y, len(classes), classes
	return nil
}

// predictAll returns the model's outputs for d in original target units.
func (lm *loadedModel) predictAll(d *data.Dataset) []float32 {
	be, _, err := kernels.Default()
	if err != nil {
		be = kernels.Generic
	}
	const batch = 512
	b := lm.m.NewBatch(batch)
	out := make([]float32, d.N*lm.m.Out)
	for lo := 0; lo < d.N; lo += batch {
		hi := min(lo+batch, d.N)
		b.Forward(be, lm.m.Params, d.X[lo*d.D:hi*d.D], hi-lo)
		copy(out[lo*lm.m.Out:], b.Output())
	}
	if lm.norm != nil && len(lm.norm.YMean) > 0 {
		(&data.Standardizer{YMean: lm.norm.YMean, YStd: lm.norm.YStd}).UnapplyY(out)
	}
	return out
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// modelAndData parses the flags shared by predict and eval, loads the model
// and reads the data file like the training data.
func modelAndData(name string, args []string, extra func(*flag.FlagSet)) (*loadedModel, *data.Dataset, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	model := fs.String("model", "", "checkpoint directory written by ntklsh train --checkpoint")
	path := fs.String("data", "", "data file laid out like the training data (with its target column)")
	format := fs.String("format", "", "csv or libsvm (default: as in training / from the name)")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, flag.ErrHelp
		}
		return nil, nil, errUsage
	}
	if *model == "" || *path == "" {
		return nil, nil, errors.New("--model DIR and --data FILE are required")
	}
	lm, err := loadModel(*model)
	if err != nil {
		return nil, nil, err
	}
	d, err := lm.readLike(*path, *format)
	if err != nil {
		return nil, nil, err
	}
	return lm, d, nil
}

func runPredict(args []string, stdout io.Writer) error {
	var outPath *string
	lm, d, err := modelAndData("predict", args, func(fs *flag.FlagSet) {
		outPath = fs.String("out", "-", "where to write the predictions CSV (- for stdout)")
	})
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	pred := lm.predictAll(d)
	w := stdout
	var f *os.File
	if *outPath != "-" {
		if f, err = os.Create(*outPath); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	O := lm.m.Out
	var head []string
	classes := lm.spec.Classes
	if lm.spec.OneHot > 0 {
		head = append(head, "predicted_class")
	}
	for o := 0; o < O; o++ {
		name := "prediction"
		if O > 1 {
			name = "output_" + strconv.Itoa(o)
			if len(classes) == O {
				name = "score_" + strconv.FormatFloat(classes[o], 'g', -1, 64)
			}
		}
		head = append(head, name)
	}
	cw.Write(head)
	row := make([]string, 0, len(head))
	for i := 0; i < d.N; i++ {
		row = row[:0]
		p := pred[i*O : (i+1)*O]
		if lm.spec.OneHot > 0 {
			k := argmax(p)
			label := strconv.Itoa(k)
			if len(classes) == O {
				label = strconv.FormatFloat(classes[k], 'g', -1, 64)
			}
			row = append(row, label)
		}
		for _, v := range p {
			row = append(row, strconv.FormatFloat(float64(v), 'g', 8, 32))
		}
		cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing predictions: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing predictions: %w", err)
	}
	if f != nil {
		return f.Close()
	}
	return nil
}

func runEval(args []string, stdout io.Writer) error {
	lm, d, err := modelAndData("eval", args, nil)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	pred := lm.predictAll(d)
	O := lm.m.Out
	var sse float64
	correct := 0
	for i := 0; i < d.N; i++ {
		for o := 0; o < O; o++ {
			r := float64(pred[i*O+o] - d.Y[i*O+o])
			sse += r * r
		}
		if lm.spec.OneHot > 0 && argmax(pred[i*O:(i+1)*O]) == argmax(d.Y[i*O:(i+1)*O]) {
			correct++
		}
	}
	mse := sse / float64(d.N*O)
	fmt.Fprintf(stdout, "points: %d\nmse: %.6g\nrmse: %.6g\n", d.N, mse, math.Sqrt(mse))
	if lm.spec.OneHot > 0 {
		fmt.Fprintf(stdout, "accuracy: %.4f\n", float64(correct)/float64(d.N))
	}
	return nil
}
