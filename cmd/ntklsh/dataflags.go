package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ntklsh/ntklsh/engine/data"
)

const targetHelp = "CSV target column: a 0-based index (negative counts from the end) or a header name. " +
	"Default: with a header, the one column named y, target, label or class (none or several: an error, give --target); " +
	"without a header, column 0 (the YearPredictionMSD layout). The choice is printed and stored in model.json"

const featuresHelp = "feature columns, comma separated, by header name (CSV with a header, Parquet) or 0-based index, in this order (default: every column but the target)"

const categoricalHelp = "text (string) feature columns of CSV and Parquet files: refuse (an error naming the column) or auto (one-hot encode them: one feature per category seen in training, stored in model.json; a category eval/predict did not see in training is an error)"

// parseFeatures parses --features; nil when not given.
func parseFeatures(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, fmt.Errorf("--features %q: an empty column name", s)
		}
		out = append(out, f)
	}
	return out, nil
}

// classifier says whether the target holds class labels (one output per
// class, not standardized).
func (f trainFlags) classifier() bool { return f.oneHot > 0 || f.xent }

const sepHelp = `CSV field separator: auto (sniffed from the first lines), ',', ';' or '\t' (tab)`

// targetFlag is --target: unset, an index, or a column name.
type targetFlag struct {
	set   bool
	index int
	name  string
}

func (t *targetFlag) String() string {
	if t == nil || !t.set {
		return ""
	}
	if t.name != "" {
		return t.name
	}
	return strconv.Itoa(t.index)
}

func (t *targetFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("empty target column")
	}
	*t = targetFlag{set: true}
	if v, err := strconv.Atoi(s); err == nil {
		t.index = v
	} else {
		t.name = s
	}
	return nil
}

// parseSep parses --sep; 0 means sniff.
func parseSep(s string) (rune, error) {
	switch s {
	case "", "auto":
		return 0, nil
	case ",", "comma":
		return ',', nil
	case ";", "semicolon":
		return ';', nil
	case "\t", `\t`, "tab", "TAB":
		return '\t', nil
	}
	return 0, fmt.Errorf(`--sep %q: want auto, ',', ';' or '\t' (tab)`, s)
}

func sepString(r rune) string {
	switch r {
	case 0:
		return "auto"
	case '\t':
		return `\t`
	}
	return string(r)
}

// parseHeader parses --header.
func parseHeader(s string) (data.HeaderMode, error) {
	switch s {
	case "auto", "":
		return data.HeaderAuto, nil
	case "yes", "true":
		return data.HeaderYes, nil
	case "no", "false":
		return data.HeaderNo, nil
	}
	return 0, fmt.Errorf("--header %q: want auto, yes or no", s)
}

// optionFlags maps the data options to the flags that set them.
var optionFlags = map[string]string{"Target": "--target", "Targets": "--targets", "OneHot": "--onehot", "MaxRows": "--max-rows",
	"Header": "--header", "Comma": "--sep", "Features": "--features", "Categorical": "--categorical"}

// flagTerms restates a data-option error in terms of the flag that set
// the option: "--target -4: d.csv:1: column -4 is outside the 3 columns".
func flagTerms(err error) error {
	var oe *data.OptionError
	if !errors.As(err, &oe) {
		return err
	}
	fl, ok := optionFlags[oe.Option]
	if !ok {
		return err
	}
	v := oe.Value
	if oe.Option == "Comma" {
		v = "'" + sepString([]rune(v)[0]) + "'"
	}
	if oe.Option == "Categorical" && v == "refuse" {
		return fmt.Errorf("%s %s: %w; pass --categorical auto to one-hot encode it, or leave it out with --features", fl, v, err)
	}
	if oe.Option == "OneHot" && v == "0" {
		return fmt.Errorf("--loss xent: %w", err)
	}
	if oe.Option == "Target" && v == "0" && strings.Contains(oe.Msg, "must be given") {
		return fmt.Errorf("%s not given: %w", fl, err)
	}
	return fmt.Errorf("%s %s: %w", fl, v, err)
}
