package experiment

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of a plot; Lo and Hi, when set, draw a shaded band
// (the spread over seeds).
type Series struct {
	Name      string
	X, Y      []float64
	Lo, Hi    []float64
	Dashed    bool
	ColorSlot int // index into the palette; -1: by position
}

// LinePlot describes a line plot.
type LinePlot struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Series                []Series
	// HLine, when finite and positive (or any finite value without LogY),
	// draws a horizontal reference line labelled HLineName.
	HLine     float64
	HLineName string
}

func usable(x, y float64, logX, logY bool) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
		return false
	}
	return (!logX || x > 0) && (!logY || y > 0)
}

// palette is matplotlib's tab10 plus two, so that twelve lines stay apart.
var palette = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
	{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255}, {0, 0, 0, 255}, {255, 215, 0, 255}}

func paletteColor(i int) color.Color { return palette[i%len(palette)] }

// Save draws the plot into a PNG file of 7×4.5 inches.
func (lp LinePlot) Save(path string) error {
	p := plot.New()
	p.Title.Text = lp.Title
	p.X.Label.Text = lp.XLabel
	p.Y.Label.Text = lp.YLabel
	if lp.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if lp.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())
	drawn := 0
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for i, s := range lp.Series {
		slot := s.ColorSlot
		if slot < 0 {
			slot = i
		}
		col := paletteColor(slot)
		var pts plotter.XYs
		for k := range s.X {
			if usable(s.X[k], s.Y[k], lp.LogX, lp.LogY) {
				pts = append(pts, plotter.XY{X: s.X[k], Y: s.Y[k]})
				xmin, xmax = math.Min(xmin, s.X[k]), math.Max(xmax, s.X[k])
			}
		}
		if len(pts) == 0 {
			continue
		}
		if s.Lo != nil && s.Hi != nil {
			var poly plotter.XYs
			for k := range s.X {
				if usable(s.X[k], s.Lo[k], lp.LogX, lp.LogY) && usable(s.X[k], s.Hi[k], lp.LogX, lp.LogY) {
					poly = append(poly, plotter.XY{X: s.X[k], Y: s.Hi[k]})
				}
			}
			for k := len(s.X) - 1; k >= 0; k-- {
				if usable(s.X[k], s.Lo[k], lp.LogX, lp.LogY) && usable(s.X[k], s.Hi[k], lp.LogX, lp.LogY) {
					poly = append(poly, plotter.XY{X: s.X[k], Y: s.Lo[k]})
				}
			}
			if len(poly) >= 4 {
				pg, err := plotter.NewPolygon(poly)
				if err != nil {
					return err
				}
				r, g, b, _ := col.RGBA()
				pg.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 40}
				pg.LineStyle.Width = 0
				p.Add(pg)
			}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = col
		l.Width = vg.Points(1.4)
		if s.Dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		if len(pts) <= 12 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			sc.Color = col
			sc.Shape = draw.CircleGlyph{}
			sc.Radius = vg.Points(2)
			p.Add(sc)
		}
		p.Legend.Add(s.Name, l)
		drawn++
	}
	if drawn == 0 {
		return fmt.Errorf("plot %s: no drawable points", path)
	}
	if !math.IsNaN(lp.HLine) && !math.IsInf(lp.HLine, 0) && lp.HLine != 0 && (!lp.LogY || lp.HLine > 0) && xmax >= xmin {
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: lp.HLine}, {X: xmax, Y: lp.HLine}})
		if err != nil {
			return err
		}
		l.Color = color.Gray{Y: 90}
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(l)
		if lp.HLineName != "" {
			p.Legend.Add(lp.HLineName, l)
		}
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}

// Bar is one bar of a BarPlot: Value with an interval [Lo, Hi] drawn as an
// error bar when both are finite.
type Bar struct {
	Name          string
	Value, Lo, Hi float64
	ColorSlot     int
}

// BarPlot describes a bar chart with error bars and an optional
// horizontal reference line (RefLine, when not 0). A bar whose value is
// not finite is drawn empty and its label says why ("∞": not reached).
type BarPlot struct {
	Title, YLabel string
	Bars          []Bar
	RefLine       float64
}

// Save draws the chart into a PNG file of 7×4.5 inches.
func (bp BarPlot) Save(path string) error {
	p := plot.New()
	p.Title.Text = bp.Title
	p.Y.Label.Text = bp.YLabel
	p.Add(plotter.NewGrid())
	// The y range: every finite value and interval end, and the line.
	top := bp.RefLine
	for _, b := range bp.Bars {
		for _, v := range []float64{b.Value, b.Lo, b.Hi} {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				top = math.Max(top, v)
			}
		}
	}
	if !(top > 0) {
		top = 1
	}
	w := vg.Points(min(40, 360/float64(max(1, len(bp.Bars)))))
	var names []string
	for i, b := range bp.Bars {
		name := b.Name
		v := b.Value
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if math.IsInf(v, 1) {
				name += " (∞)"
			} else {
				name += " (–)"
			}
			v = 0
		}
		names = append(names, name)
		bc, err := plotter.NewBarChart(plotter.Values{v}, w)
		if err != nil {
			return err
		}
		bc.XMin = float64(i)
		bc.Color = paletteColor(b.ColorSlot)
		bc.LineStyle.Width = vg.Points(0.5)
		p.Add(bc)
		lo, hi := b.Lo, b.Hi
		if !math.IsNaN(lo) && !math.IsNaN(hi) && !math.IsInf(lo, 0) {
			if math.IsInf(hi, 1) {
				hi = 1.05 * top // open-ended: drawn to the top
			}
			l, err := plotter.NewLine(plotter.XYs{{X: float64(i), Y: lo}, {X: float64(i), Y: hi}})
			if err != nil {
				return err
			}
			l.Width = vg.Points(1.5)
			p.Add(l)
			for _, y := range []float64{lo, hi} {
				c, err := plotter.NewLine(plotter.XYs{{X: float64(i) - 0.15, Y: y}, {X: float64(i) + 0.15, Y: y}})
				if err != nil {
					return err
				}
				c.Width = vg.Points(1.5)
				p.Add(c)
			}
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("plot %s: no bars", path)
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.Y.Min, p.Y.Max = 0, 1.1*top
	if bp.RefLine != 0 {
		l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: bp.RefLine}, {X: float64(len(names)) - 0.5, Y: bp.RefLine}})
		if err != nil {
			return err
		}
		l.Color = color.Gray{Y: 90}
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(l)
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}
