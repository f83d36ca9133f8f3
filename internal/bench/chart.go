package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

var (
	background = color.RGBA{0x0f, 0x14, 0x19, 0xff}
	ink        = color.RGBA{0xc5, 0xcc, 0xd3, 0xff}
	barColors  = []color.RGBA{{0x26, 0xa6, 0x9a, 0xff}, {0xef, 0x53, 0x50, 0xff}, {0xf5, 0xb9, 0x42, 0xff}}
)

// panel is one bar chart: a value (or two) per transport.
type panel struct {
	title  string
	unit   string
	series []string // legend, one per value
	values func(Result) []float64
	log    bool // log scale, for values spanning decades
}

// Chart draws the results as a PNG, one bar group per run, labelled by
// label: bytes per update, latency, CPU and requests side by side for a
// comparison of transports; latency (with the time at the socket), CPU
// and delivered share for a fan-out.
func Chart(path, title string, rs []Result, label func(Result) string, fanout bool) error {
	panels := []panel{
		{"bytes on the wire per delivered update", "B", nil, func(r Result) []float64 { return []float64{r.BytesPerUpdate} }, false},
		{"delivery latency, ms (log scale)", "", []string{"p50", "p99"}, func(r Result) []float64 { return []float64{ms64(r.P50), ms64(r.P99)} }, true},
		{"server CPU per 1000 deliveries", "ms", nil, func(r Result) []float64 { return []float64{ms64(r.CPUPer1000)} }, false},
		{"requests per second", "", nil, func(r Result) []float64 { return []float64{r.RequestsPerSec} }, false},
	}
	if fanout {
		panels = []panel{
			{"delivery latency, ms", "", []string{"p50", "p99", "p99 sock"}, func(r Result) []float64 {
				return []float64{ms64(r.P50), ms64(r.P99), ms64(r.ArrivalP99)}
			}, false},
			{"CPU, % of one core", "%", []string{"server", "client"}, func(r Result) []float64 {
				return []float64{100 * r.CPUShare, 100 * r.clientShare()}
			}, false},
			{"revisions delivered, % of published", "%", nil, func(r Result) []float64 {
				return []float64{100 * float64(r.Deliveries) / max(r.Rate*r.Duration.Seconds()*float64(r.Connected), 1)}
			}, false},
			{"idle memory per connection, KiB", "", []string{"RSS", "Go"}, func(r Result) []float64 {
				return []float64{r.IdleRSSPerConn / 1024, r.IdleMemPerConn / 1024}
			}, false},
		}
	}
	const pw, ph, top = 340, 320, 50
	img := image.NewRGBA(image.Rect(0, 0, pw*len(panels), ph+top))
	draw.Draw(img, img.Bounds(), &image.Uniform{background}, image.Point{}, draw.Src)
	text(img, 10, 20, title)
	for i, p := range panels {
		drawPanel(img, image.Rect(i*pw, top, (i+1)*pw, top+ph), p, rs, label)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	defer f.Close()
	return png.Encode(f, img)
}

func ms64(d interface{ Microseconds() int64 }) float64 { return float64(d.Microseconds()) / 1000 }

func drawPanel(img *image.RGBA, r image.Rectangle, p panel, rs []Result, name func(Result) string) {
	text(img, r.Min.X+10, r.Min.Y+12, p.title)
	for i, s := range p.series {
		fill(img, image.Rect(r.Min.X+10+i*80, r.Min.Y+20, r.Min.X+18+i*80, r.Min.Y+28), barColors[i%len(barColors)])
		text(img, r.Min.X+22+i*80, r.Min.Y+28, s)
	}
	hi := 0.0
	for _, res := range rs {
		for _, v := range p.values(res) {
			hi = max(hi, v)
		}
	}
	if hi == 0 {
		hi = 1
	}
	base, height := r.Max.Y-30, r.Dy()-80
	slot := (r.Dx() - 20) / max(len(rs), 1)
	for i, res := range rs {
		vs := p.values(res)
		w := (slot - 20) / len(vs)
		for j, v := range vs {
			x := r.Min.X + 10 + i*slot + 10 + j*w
			frac := v / hi
			if p.log {
				frac = math.Log10(1+v) / math.Log10(1+hi)
			}
			h := int(frac * float64(height))
			fill(img, image.Rect(x, base-h, x+w-4, base), barColors[j%len(barColors)])
			text(img, x, base-h-4-12*j, label(v, p.unit))
		}
		text(img, r.Min.X+20+i*slot, base+16, name(res))
	}
}

func label(v float64, unit string) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f%s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f%s", v, unit)
	}
	return fmt.Sprintf("%.2f%s", v, unit)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
}

func text(img *image.RGBA, x, y int, s string) {
	d := &font.Drawer{Dst: img, Src: &image.Uniform{ink}, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
