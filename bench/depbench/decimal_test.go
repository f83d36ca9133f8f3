package depbench

import (
	"testing"

	apd "github.com/cockroachdb/apd/v3"
	gv "github.com/govalues/decimal"
	ud "github.com/quagmt/udecimal"
	sd "github.com/shopspring/decimal"
)

var prices = []string{"64321.57000000", "64321.58000000", "64320.01000000", "64325.99000000"}
var qtys = []string{"0.00012000", "0.15000000", "1.23456789", "0.00000100"}

// One "trade" = parse price+qty, update high/low, add volume, add price*qty.
func BenchmarkDecimalShopspring(b *testing.B) {
	hi, lo, v, q := sd.Zero, sd.NewFromInt(1e9), sd.Zero, sd.Zero
	for i := 0; i < b.N; i++ {
		p, _ := sd.NewFromString(prices[i&3])
		s, _ := sd.NewFromString(qtys[i&3])
		if p.Cmp(hi) > 0 {
			hi = p
		}
		if p.Cmp(lo) < 0 {
			lo = p
		}
		v = v.Add(s)
		q = q.Add(p.Mul(s))
	}
	_ = hi.String() + lo.String() + v.String() + q.String()
}

func BenchmarkDecimalGovalues(b *testing.B) {
	hi, lo, v, q := gv.Zero, gv.MustNew(1e9, 0), gv.Zero, gv.Zero
	for i := 0; i < b.N; i++ {
		p, _ := gv.Parse(prices[i&3])
		s, _ := gv.Parse(qtys[i&3])
		if p.Cmp(hi) > 0 {
			hi = p
		}
		if p.Cmp(lo) < 0 {
			lo = p
		}
		v, _ = v.Add(s)
		m, _ := p.Mul(s)
		q, _ = q.Add(m)
	}
	_ = hi.String() + lo.String() + v.String() + q.String()
}

func BenchmarkDecimalUdecimal(b *testing.B) {
	hi, lo, v, q := ud.Zero, ud.MustFromInt64(1e9, 0), ud.Zero, ud.Zero
	for i := 0; i < b.N; i++ {
		p, _ := ud.Parse(prices[i&3])
		s, _ := ud.Parse(qtys[i&3])
		if p.Cmp(hi) > 0 {
			hi = p
		}
		if p.Cmp(lo) < 0 {
			lo = p
		}
		v = v.Add(s)
		q = q.Add(p.Mul(s))
	}
	_ = hi.String() + lo.String() + v.String() + q.String()
}

func BenchmarkDecimalApd(b *testing.B) {
	hi, lo, v, q := apd.New(0, 0), apd.New(1e9, 0), apd.New(0, 0), apd.New(0, 0)
	ctx := apd.BaseContext.WithPrecision(40)
	m := new(apd.Decimal)
	for i := 0; i < b.N; i++ {
		p, _, _ := apd.NewFromString(prices[i&3])
		s, _, _ := apd.NewFromString(qtys[i&3])
		if p.Cmp(hi) > 0 {
			hi.Set(p)
		}
		if p.Cmp(lo) < 0 {
			lo.Set(p)
		}
		ctx.Add(v, v, s)
		ctx.Mul(m, p, s)
		ctx.Add(q, q, m)
	}
	_ = hi.String() + lo.String() + v.String() + q.String()
}

// Exactness: sum 1e6 quote volumes of 8dp*8dp; digits exceed 19.
func TestDecimalExact(t *testing.T) {
	gq, uq, sq := gv.Zero, ud.Zero, sd.Zero
	for i := 0; i < 100000; i++ {
		gp, _ := gv.Parse("64321.57000001")
		gs, _ := gv.Parse("1.23456789")
		m, _ := gp.Mul(gs)
		gq, _ = gq.Add(m)
		up, _ := ud.Parse("64321.57000001")
		us, _ := ud.Parse("1.23456789")
		uq = uq.Add(up.Mul(us))
		sp, _ := sd.NewFromString("64321.57000001")
		ss, _ := sd.NewFromString("1.23456789")
		sq = sq.Add(sp.Mul(ss))
	}
	t.Logf("shopspring %s\ngovalues   %s\nudecimal   %s", sq, gq, uq)
}
