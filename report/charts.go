package report

// The charts are inline SVG drawn from numbers computed here: the template
// only places them, so no value ever becomes a coordinate by accident, and
// nothing is loaded to draw them. Bars are black outlines filled grey,
// removed memberships hatched, with the number printed beside each bar, so
// a black-and-white printout reads the same.

const (
	chartWidth  = 760
	labelWidth  = 210
	valueRoom   = 80
	barHeight   = 14
	rowHeight   = 19
	labelLength = 30 // runes of a label shown; the <title> has it whole
)

type bar struct {
	Label string
	Value int64
}

type drawnBar struct {
	Label, Short   string
	Value          int64
	Y, TextY, W    int
	ValueX         int
	Added, Removed int64
	Y2             int
	AddedW, AddedX int
	RemovedW       int
	RemovedX       int
	AddedTextY     int
	RemovedTextY   int
}

type barChart struct {
	Title                 string
	Width, Height         int
	LabelWidth, BarHeight int
	Bars                  []drawnBar
}

func newBarChart(title string, bars []bar) barChart {
	c := barChart{Title: title, Width: chartWidth, LabelWidth: labelWidth, BarHeight: barHeight}
	var top int64
	for _, b := range bars {
		top = max(top, b.Value)
	}
	for i, b := range bars {
		y := i * rowHeight
		w := scale(b.Value, top)
		c.Bars = append(c.Bars, drawnBar{Label: b.Label, Short: shorten(b.Label), Value: b.Value,
			Y: y, TextY: y + barHeight - 3, W: w, ValueX: labelWidth + w})
	}
	c.Height = max(len(bars), 1) * rowHeight
	return c
}

type changeChart struct {
	Title                 string
	Width, Height         int
	LabelWidth, BarHeight int
	Pairs                 []drawnBar
}

// newChangeChart draws two bars a group, added over removed, for the groups
// whose memberships changed.
func newChangeChart(title string, groups []Group) *changeChart {
	c := &changeChart{Title: title, Width: chartWidth, LabelWidth: labelWidth, BarHeight: barHeight}
	var top int64
	for _, g := range groups {
		if g.Added != nil {
			top = max(top, *g.Added, *g.Removed)
		}
	}
	const pair = 2*barHeight + 8
	for _, g := range groups {
		if g.Added == nil || *g.Added == 0 && *g.Removed == 0 {
			continue
		}
		y := len(c.Pairs) * pair
		d := drawnBar{Label: g.Name, Short: shorten(g.Name), Added: *g.Added, Removed: *g.Removed,
			Y: y, Y2: y + barHeight, TextY: y + barHeight + 3}
		d.AddedW, d.RemovedW = scale(d.Added, top), scale(d.Removed, top)
		d.AddedX, d.RemovedX = labelWidth+d.AddedW, labelWidth+d.RemovedW
		d.AddedTextY, d.RemovedTextY = y+barHeight-3, y+2*barHeight-3
		c.Pairs = append(c.Pairs, d)
	}
	c.Height = max(len(c.Pairs), 1) * pair
	return c
}

// scale maps v in [0, top] to a bar length, at least 1 for a non-zero v so
// that a small group is still visible.
func scale(v, top int64) int {
	if top == 0 || v == 0 {
		return 0
	}
	return max(1, int(v*int64(chartWidth-labelWidth-valueRoom)/top))
}

func shorten(s string) string {
	r := []rune(s)
	if len(r) <= labelLength {
		return s
	}
	return string(r[:labelLength-1]) + "…"
}
