package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
)

// readLike reads a data file for a trained model and standardizes its
// features. CSV columns are matched to the training columns by header name
// when both the file and the model have names, by position otherwise; the
// target columns may be absent (then O = 0), unless needTargets. Targets
// stay in original units, one-hot columns mapped onto the training classes.
// maxRows limits the rows read (0: all).
func (lm *loadedModel) readLike(path, format, sepFlag string, needTargets bool, maxRows int) (*data.Dataset, error) {
	sp := lm.spec
	if format == "" {
		format = sp.Format
	}
	hdr, err := parseHeader(sp.Header)
	if err != nil {
		hdr = data.HeaderAuto
	}
	sep, err := parseSep(sepFlag)
	if err != nil {
		return nil, err
	}
	if sp.Encoding != nil {
		t, err := data.LoadTable(path, format, data.CSVOptions{Header: hdr, Comma: sep, MaxRows: maxRows})
		if err != nil {
			return nil, flagTerms(err)
		}
		d, err := sp.Encoding.Apply(t, needTargets)
		if err != nil {
			return nil, err
		}
		if d.D != lm.m.In || d.O != 0 && d.O != lm.m.Out {
			return nil, fmt.Errorf("%s: %d features and %d outputs, but the model has %d and %d", path, d.D, d.O, lm.m.In, lm.m.Out)
		}
		return d, lm.standardize(d, path)
	}
	raw, err := data.Load(path, format, data.CSVOptions{NoTarget: true, Header: hdr, Comma: sep, MaxRows: maxRows},
		data.LIBSVMOptions{Features: lm.m.In, OneHot: sp.OneHot, MaxRows: maxRows})
	if err != nil {
		return nil, flagTerms(err)
	}
	var d *data.Dataset
	if raw.O > 0 { // LIBSVM: features by index, always with a label
		d = raw
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
	} else if d, err = lm.assemble(raw, path); err != nil {
		return nil, err
	}
	if needTargets && d.O == 0 {
		return nil, fmt.Errorf("%s has no target column: eval needs the targets", path)
	}
	return d, lm.standardize(d, path)
}

// standardize applies the training run's feature statistics to d.
func (lm *loadedModel) standardize(d *data.Dataset, path string) error {
	if lm.norm != nil {
		st := &data.Standardizer{XMean: lm.norm.XMean, XStd: lm.norm.XStd}
		if err := st.Apply(d); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// assemble picks the model's feature columns (and the target columns, if
// present) out of a CSV file read with every column as a feature.
func (lm *loadedModel) assemble(raw *data.Dataset, path string) (*data.Dataset, error) {
	sp := lm.spec
	D, nT := lm.m.In, max(sp.Targets, 1)
	var feat, targ []int
	if raw.FeatureNames != nil && len(sp.Names) == D {
		col := map[string]int{}
		for i, n := range raw.FeatureNames {
			if _, dup := col[n]; dup {
				return nil, fmt.Errorf("%s: column name %q appears twice; cannot match the columns by name", path, n)
			}
			col[n] = i
		}
		var missing, missingT []string
		for _, n := range sp.Names {
			if i, ok := col[n]; ok {
				feat = append(feat, i)
			} else {
				missing = append(missing, strconv.Quote(n))
			}
		}
		tnames := sp.TargetNames
		if sp.OneHot > 0 || len(tnames) != nT {
			tnames = []string{sp.TargetName}
		}
		for _, n := range tnames {
			if i, ok := col[n]; ok && n != "" {
				targ = append(targ, i)
			} else {
				missingT = append(missingT, strconv.Quote(n))
			}
		}
		if len(targ) > 0 && len(missingT) > 0 {
			missing = append(missing, missingT...)
		}
		if len(missingT) > 0 {
			targ = nil
		}
		var extra []string
		for i, n := range raw.FeatureNames {
			if !slices.Contains(feat, i) && !slices.Contains(targ, i) {
				extra = append(extra, strconv.Quote(n))
			}
		}
		if len(missing) > 0 || len(extra) > 0 {
			msg := fmt.Sprintf("%s: the columns do not match the model's (features %s; target %s):", path, strings.Join(quoteAll(sp.Names), ", "), strings.Join(quoteAll(tnames), ", "))
			if len(missing) > 0 {
				msg += " missing " + strings.Join(missing, ", ")
				if len(extra) > 0 {
					msg += ";"
				}
			}
			if len(extra) > 0 {
				msg += " extra " + strings.Join(extra, ", ")
			}
			return nil, fmt.Errorf("%s", msg)
		}
	} else {
		switch raw.D {
		case D:
			for i := range D {
				feat = append(feat, i)
			}
		case D + nT:
			t := sp.Target
			for i := range D + nT {
				if i >= t && i < t+nT {
					targ = append(targ, i)
				} else {
					feat = append(feat, i)
				}
			}
		default:
			why := ""
			if raw.FeatureNames != nil {
				why = " (the model has no column names to match by)"
			}
			return nil, fmt.Errorf("%s has %d columns, but the model takes %d features and %d target column(s): want %d columns (features only) or %d (with the target at column %d)%s",
				path, raw.D, D, nT, D, D+nT, sp.Target, why)
		}
	}
	d := &data.Dataset{Name: raw.Name, N: raw.N, D: D, X: make([]float32, raw.N*D), FeatureNames: slices.Clone(sp.Names)}
	for i := range raw.N {
		row := raw.XRow(i)
		for j, c := range feat {
			d.X[i*D+j] = row[c]
		}
	}
	if targ == nil {
		return d, nil
	}
	d.O = lm.m.Out
	d.Y = make([]float32, raw.N*d.O)
	for i := range raw.N {
		row := raw.XRow(i)
		if sp.OneHot > 0 {
			v := float64(row[targ[0]])
			k := slices.Index(sp.Classes, v)
			if k < 0 {
				return nil, fmt.Errorf("%s: class label %v (row %d) was not among the training classes %v", path, v, i+1, sp.Classes)
			}
			d.Y[i*d.O+k] = 1
			continue
		}
		for j, c := range targ {
			d.Y[i*d.O+j] = row[c]
		}
	}
	return d, nil
}

func quoteAll(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = strconv.Quote(s)
	}
	return out
}

// splitPart reproduces the training run's --test-frac split of d and
// returns the part asked for.
func (lm *loadedModel) splitPart(d *data.Dataset, path, part string) (*data.Dataset, error) {
	s := lm.spec.Split
	if s == nil {
		return nil, fmt.Errorf("--split %s: the model was not trained with a --test-frac split of its data", part)
	}
	if path != lm.spec.Source {
		return nil, fmt.Errorf("--split %s: the split was made of %s, not %s", part, lm.spec.Source, path)
	}
	train, test, err := data.Split(d, s.TestFrac, s.Seed)
	if err != nil {
		return nil, err
	}
	if part == "test" {
		return test, nil
	}
	return train, nil
}

// trainingLoss is the training objective on d: the mean over points of
// ½|f(x) − y|², in standardized target units when training standardized
// the targets (as train reports its losses).
func (lm *loadedModel) trainingLoss(d *data.Dataset) float64 {
	out := lm.forwardAll(d)
	O := lm.m.Out
	var s float64
	if lm.m.Loss != nn.MSE {
		p := make([]float64, O)
		for i := 0; i < d.N; i++ {
			s += lm.m.Loss.Value(out[i*O:(i+1)*O], d.Y[i*O:(i+1)*O], p)
		}
		return s / float64(d.N)
	}
	for i := 0; i < d.N; i++ {
		var r float64
		for o := 0; o < O; o++ {
			y := d.Y[i*O+o]
			if lm.norm != nil && len(lm.norm.YMean) > 0 {
				y = float32((float64(y) - lm.norm.YMean[o]) * (1 / lm.norm.YStd[o]))
			}
			e := float64(out[i*O+o] - y)
			r += e * e
		}
		s += 0.5 * r
	}
	return s / float64(d.N)
}
