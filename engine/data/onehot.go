package data

import (
	"fmt"
	"slices"
	"strconv"
)

// classCollector gathers integer class labels for one-hot expansion and
// stops as soon as more distinct labels appear than there are outputs.
type classCollector struct {
	limit     int
	auto      bool            // as many outputs as distinct labels (at most limit)
	labels    []float64       // one per row
	firstLine map[float64]int // distinct label -> first line it appeared on
}

func newClassCollector(limit int) *classCollector {
	return &classCollector{limit: limit, firstLine: make(map[float64]int)}
}

// newAutoClassCollector collects labels for as many outputs as there are
// distinct labels, at most MaxClasses.
func newAutoClassCollector() *classCollector {
	return &classCollector{limit: MaxClasses, auto: true, firstLine: make(map[float64]int)}
}

// add records the label of the next row. It returns a non-empty message if
// the label is one too many distinct classes.
func (c *classCollector) add(label float64, line int) string {
	if _, ok := c.firstLine[label]; !ok {
		if len(c.firstLine) == c.limit {
			if c.auto {
				return fmt.Sprintf("class label %s is distinct label number %d, more than the %d classes allowed",
					strconv.FormatFloat(label, 'g', -1, 64), c.limit+1, c.limit)
			}
			return fmt.Sprintf("class label %s is distinct label number %d, but there are only %d one-hot classes",
				strconv.FormatFloat(label, 'g', -1, 64), c.limit+1, c.limit)
		}
		c.firstLine[label] = line
	}
	c.labels = append(c.labels, label)
	return ""
}

// expand returns the N×limit one-hot targets (classes in sorted label order
// map to outputs 0..k-1) and the label of each output. Outputs beyond the k
// distinct labels seen never fire; their labels are placeholders max+1,
// max+2, ... so that Classes stays sorted and distinct.
func (c *classCollector) expand() (y []float32, classes []float64) {
	if c.auto {
		c.limit = len(c.firstLine)
	}
	distinct := make([]float64, 0, len(c.firstLine))
	for v := range c.firstLine {
		distinct = append(distinct, v)
	}
	slices.Sort(distinct)
	index := make(map[float64]int, len(distinct))
	for i, v := range distinct {
		index[v] = i
	}
	y = make([]float32, len(c.labels)*c.limit)
	for r, v := range c.labels {
		y[r*c.limit+index[v]] = 1
	}
	classes = make([]float64, c.limit)
	copy(classes, distinct)
	next := 0.0
	if len(distinct) > 0 {
		next = distinct[len(distinct)-1] + 1
	}
	for i := len(distinct); i < c.limit; i++ {
		classes[i] = next
		next++
	}
	return y, classes
}

// sizeError says why the one-hot targets of the labels collected so far
// would be too large to allocate ("" if they are not).
func (c *classCollector) sizeError() string {
	k := c.limit
	if c.auto {
		k = len(c.firstLine)
	}
	if k > 0 && len(c.labels) > MaxValues/k {
		return fmt.Sprintf("%d rows × %d classes is more than the %d one-hot values allowed", len(c.labels), k, MaxValues)
	}
	return ""
}
