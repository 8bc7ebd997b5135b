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
	loss, err := nn.ParseLoss(c.Meta.Model.Loss)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	cfg := nn.Config{In: c.Meta.Model.In, Out: c.Meta.Model.Out, Hidden: c.Meta.Model.Hidden, Activation: act, Loss: loss}
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
	out := lm.forwardAll(d)
	if lm.norm != nil && len(lm.norm.YMean) > 0 {
		(&data.Standardizer{YMean: lm.norm.YMean, YStd: lm.norm.YStd}).UnapplyY(out)
	}
	return out
}

// forwardAll returns the model's raw outputs for d (standardized target
// units when the targets were standardized).
func (lm *loadedModel) forwardAll(d *data.Dataset) []float32 {
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
	return out
}

// classNames are the class labels of the outputs as written in the data
// (numbers as the shortest decimal), or nil when unknown.
func (lm *loadedModel) classNames() []string {
	if lm.spec.ClassLabels != nil {
		return lm.spec.ClassLabels
	}
	if lm.spec.Classes == nil {
		return nil
	}
	out := make([]string, len(lm.spec.Classes))
	for i, c := range lm.spec.Classes {
		out[i] = strconv.FormatFloat(c, 'g', -1, 64)
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
	path := fs.String("data", "", "data file: CSV columns are matched to the training columns by header name when both have names, by position otherwise; "+
		"the target column may be left out (D columns: features only; D+targets: with them) (eval --split: default the training file)")
	format := fs.String("format", "", "csv, libsvm, npy or parquet (default: as in training / from the name)")
	sep := fs.String("sep", "auto", sepHelp)
	split := "all"
	if name == "eval" {
		fs.StringVar(&split, "split", "all", "evaluate on the test or train part of the training run's --test-frac split (same seed and fraction), or all of the file")
	}
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, flag.ErrHelp
		}
		return nil, nil, errUsage
	}
	if split != "all" && split != "test" && split != "train" {
		return nil, nil, fmt.Errorf("--split %q: want test, train or all", split)
	}
	if *model == "" {
		return nil, nil, errors.New("--model DIR is required")
	}
	lm, err := loadModel(*model)
	if err != nil {
		return nil, nil, err
	}
	if *path == "" {
		if split == "all" || lm.spec.Source == "" || lm.spec.Source == "synthetic" {
			return nil, nil, errors.New("--data FILE is required")
		}
		*path = lm.spec.Source
	}
	maxRows := 0
	if split != "all" {
		maxRows = lm.spec.MaxRows // the split was made of the rows training read
	}
	d, err := lm.readLike(*path, *format, *sep, name == "eval", maxRows)
	if err != nil {
		return nil, nil, err
	}
	if split != "all" {
		if d, err = lm.splitPart(d, *path, split); err != nil {
			return nil, nil, err
		}
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
	classes := lm.classNames()
	if lm.spec.OneHot > 0 {
		head = append(head, "predicted_class")
	}
	for o := 0; o < O; o++ {
		name := "prediction"
		if O > 1 {
			name = "output_" + strconv.Itoa(o)
			if len(classes) == O {
				name = "score_" + classes[o]
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
				label = classes[k]
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
	if d.O != lm.m.Out {
		return fmt.Errorf("%s has no target column: eval needs the targets", d.Name)
	}
	loss := lm.trainingLoss(d)
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
	if lm.m.Loss == nn.Xent {
		fmt.Fprintf(stdout, "points: %d\nloss: %.6g (the training objective, softmax cross-entropy, as train's loss columns)\n", d.N, loss)
	} else {
		fmt.Fprintf(stdout, "points: %d\nmse: %.6g\nrmse: %.6g\nloss: %.6g (the training objective ½|f−y|², as train's loss columns)\n", d.N, mse, math.Sqrt(mse), loss)
	}
	if lm.spec.OneHot > 0 {
		fmt.Fprintf(stdout, "accuracy: %.4f\n", float64(correct)/float64(d.N))
		writeClassReport(stdout, pred, d.Y, d.N, O, lm.classNames())
	}
	return nil
}

// writeClassReport writes a classifier's cross-entropy (of the softmax of
// its outputs, whatever the training loss) and its confusion matrix: row
// the true class, column the predicted one (the largest output).
func writeClassReport(w io.Writer, pred, y []float32, n, O int, classes []string) {
	p := make([]float64, O)
	var ce float64
	conf := make([]int, O*O)
	for i := 0; i < n; i++ {
		f, t := pred[i*O:(i+1)*O], y[i*O:(i+1)*O]
		ce += nn.Xent.Value(f, t, p)
		conf[argmax(t)*O+argmax(f)]++
	}
	fmt.Fprintf(w, "cross-entropy: %.6g\n", ce/float64(n))
	name := func(k int) string {
		if len(classes) == O {
			return classes[k]
		}
		return strconv.Itoa(k)
	}
	width := 6
	for k := 0; k < O; k++ {
		width = max(width, len(name(k))+1)
		for j := 0; j < O; j++ {
			width = max(width, len(strconv.Itoa(conf[k*O+j]))+1)
		}
	}
	fmt.Fprintf(w, "confusion matrix (rows: true class, columns: predicted):\n%*s", width, "")
	for k := 0; k < O; k++ {
		fmt.Fprintf(w, "%*s", width, name(k))
	}
	fmt.Fprintln(w)
	for k := 0; k < O; k++ {
		fmt.Fprintf(w, "%*s", width, name(k))
		for j := 0; j < O; j++ {
			fmt.Fprintf(w, "%*d", width, conf[k*O+j])
		}
		fmt.Fprintln(w)
	}
}
