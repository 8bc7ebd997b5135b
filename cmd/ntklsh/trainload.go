package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ntklsh/ntklsh/engine/data"
)

// splitSpec records how the training run split its data, so that eval
// --split can reproduce the split exactly.
type splitSpec struct {
	Seed     uint64  `json:"seed"`
	TestFrac float64 `json:"test_frac"`
	// Standardize says what the normalization statistics were fitted on:
	// "train" (the training part of the split) or "none".
	Standardize string `json:"standardize"`
}

// csvOptions are the CSV options of the training flags.
func (f trainFlags) csvOptions() (data.CSVOptions, error) {
	hdr, err := parseHeader(f.header)
	if err != nil {
		return data.CSVOptions{}, err
	}
	sep, err := parseSep(f.sep)
	if err != nil {
		return data.CSVOptions{}, err
	}
	feats, err := parseFeatures(f.features)
	if err != nil {
		return data.CSVOptions{}, err
	}
	opt := data.CSVOptions{Targets: f.targets, Header: hdr, OneHot: f.oneHot, MaxRows: f.maxRows, Comma: sep,
		Features: feats, Categorical: f.categorical == "auto", AutoClasses: f.xent && f.oneHot == 0}
	switch {
	case !f.target.set:
		opt.GuessTarget = true
	case f.target.name != "":
		opt.TargetName = f.target.name
	default:
		opt.Target = f.target.index
	}
	return opt, nil
}

// describeTarget says which column is the target and why.
func describeTarget(f trainFlags, d *data.Dataset) string {
	col := "column " + strconv.Itoa(d.TargetColumn)
	if len(d.TargetNames) > 0 {
		col += " " + strconv.Quote(targetColumnName(d))
	}
	switch {
	case f.target.set:
		return col + " (--target)"
	case len(d.TargetNames) > 0:
		return col + " (named like a target; --target chooses another)"
	}
	return col + " (no header: the first column by default; --target chooses another)"
}

// targetColumnName is the header name of the target column (without the
// one-hot "=class" suffix).
func targetColumnName(d *data.Dataset) string {
	if len(d.TargetNames) == 0 {
		return ""
	}
	n := d.TargetNames[0]
	if d.Classes != nil {
		n = n[:len(n)-len("="+strconv.FormatFloat(d.Classes[0], 'g', -1, 64))]
	} else if d.ClassLabels != nil {
		n = n[:len(n)-len("="+d.ClassLabels[0])]
	}
	return n
}

func loadData(f trainFlags, rep *reporter) (train, test *data.Dataset, norm *data.Standardizer, spec dataSpec, err error) {
	if f.maxRows < 0 {
		return nil, nil, nil, spec, fmt.Errorf("--max-rows %d must be ≥ 0", f.maxRows)
	}
	if !(f.testFrac >= 0 && f.testFrac < 1) {
		return nil, nil, nil, spec, fmt.Errorf("--test-frac %g outside [0, 1)", f.testFrac)
	}
	csvOpt, err := f.csvOptions()
	if err != nil {
		return nil, nil, nil, spec, err
	}
	svmOpt := data.LIBSVMOptions{OneHot: f.oneHot, MaxRows: f.maxRows, AutoClasses: csvOpt.AutoClasses}
	var all *data.Dataset
	switch {
	case f.dataPath == "" && f.xent:
		// Cross-entropy needs class labels: the built-in class teacher,
		// --syn-out classes (the class teacher's default when 1).
		ct := data.DefaultClassTeacher()
		ct.N, ct.D, ct.Hidden, ct.TailDOF, ct.Seed = f.synN, f.synD, f.synHidden, f.synTail, f.seed
		if f.synOut >= 2 {
			ct.Classes = f.synOut
		}
		all, err = data.ClassTeacher(ct)
	case f.dataPath == "":
		all, err = data.Teacher(data.TeacherConfig{N: f.synN, D: f.synD, Hidden: f.synHidden, O: f.synOut, TailDOF: f.synTail, Noise: f.synNoise, Seed: f.seed})
	default:
		all, err = data.LoadProgress(f.dataPath, f.format, csvOpt, svmOpt, rep.loading(f.dataPath))
		rep.endLoading()
	}
	if err != nil {
		return nil, nil, nil, spec, textHint(flagTerms(err))
	}
	spec = dataSpec{Source: "synthetic", Format: f.format, Target: all.TargetColumn, Targets: f.targets, Header: f.header, OneHot: f.oneHot,
		Classes: all.Classes, Features: all.D, Outputs: all.O, Names: all.FeatureNames, TargetNames: all.TargetNames,
		TargetName: targetColumnName(all), MaxRows: f.maxRows, ClassLabels: all.ClassLabels, Encoding: all.Encoding}
	if f.classifier() {
		spec.OneHot = all.O // --loss xent without --onehot: the classes found
	}
	if f.dataPath != "" {
		spec.Source = f.dataPath
		what := describeTarget(f, all)
		rep.event("target", map[string]any{"column": all.TargetColumn, "name": spec.TargetName}, "target: "+what+"\n")
	}
	// Later files are read like the first: same target column.
	csvOpt.GuessTarget, csvOpt.TargetName, csvOpt.Target = false, "", all.TargetColumn
	if f.testPath != "" {
		train = all
		svmOpt.Features = all.D
		if all.Encoding != nil {
			// Read as the training file was: same columns, categories and classes.
			var t *data.Table
			if t, err = data.LoadTable(f.testPath, f.format, csvOpt); err == nil {
				test, err = all.Encoding.Apply(t, true)
			}
		} else {
			svmOpt.OneHot = spec.OneHot
			test, err = data.LoadProgress(f.testPath, f.format, csvOpt, svmOpt, rep.loading(f.testPath))
			rep.endLoading()
			if err == nil && train.Classes != nil && test.Classes != nil {
				err = remapClasses(test, train.Classes, f.testPath)
			}
		}
		if err != nil {
			return nil, nil, nil, spec, flagTerms(err)
		}
		if test.D != train.D || test.O != train.O {
			return nil, nil, nil, spec, fmt.Errorf("%s has %d features and %d targets, but %s has %d and %d", f.testPath, test.D, test.O, f.dataPath, train.D, train.O)
		}
	} else if f.testFrac > 0 {
		if train, test, err = data.Split(all, f.testFrac, f.seed); err != nil {
			return nil, nil, nil, spec, err
		}
		spec.Split = &splitSpec{Seed: f.seed, TestFrac: f.testFrac, Standardize: "none"}
		if f.standardize {
			spec.Split.Standardize = "train"
		}
	} else {
		train = all
	}
	if train.N < 1 {
		return nil, nil, nil, spec, errors.New("no training points")
	}
	if f.standardize {
		norm = data.FitStandardizer(train, !f.classifier())
		if err := norm.Apply(train); err != nil {
			return nil, nil, nil, spec, err
		}
		if test != nil {
			if err := norm.Apply(test); err != nil {
				return nil, nil, nil, spec, err
			}
		}
	}
	return train, test, norm, spec, nil
}

// textHint adds to a CSV "not a number" error what to do with a text
// column.
func textHint(err error) error {
	var pe *data.ParseError
	if errors.As(err, &pe) && errors.Is(err, strconv.ErrSyntax) && strings.HasPrefix(pe.Msg, "not a number") {
		return fmt.Errorf("%w (a text column: --categorical auto one-hot encodes a feature, --loss xent takes text class labels, --features leaves columns out)", err)
	}
	return err
}
