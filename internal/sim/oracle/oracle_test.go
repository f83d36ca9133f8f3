package oracle

import (
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	// Three trades in minute 0, none in minute 1, one in minute 2.
	log := strings.Join([]string{
		`{"time":1000,"price":"10","size":"1","quote":"10","first":1,"last":2}`,
		`{"time":2000,"price":"12","size":"0.5","quote":"6","first":3,"last":3}`,
		`{"time":59999,"price":"9","size":"2","quote":"18","first":4,"last":6}`,
		`{"time":120000,"price":"11","size":"1","quote":"11","first":7,"last":7}`,
	}, "\n")
	cases := []struct {
		name string
		conv Convention
		want map[int64]string
	}{
		{"binance", Convention{CountFills: true}, map[int64]string{
			0: "10/12/9/9/3.5/34/6", 60_000: "9/9/9/9/0/0/0", 120_000: "11/11/11/11/1/11/1"}},
		{"bitmex", Convention{OpenIsPrevClose: true}, map[int64]string{
			0: "10/12/9/9/3.5/34/3", 60_000: "9/9/9/9/0/0/0", 120_000: "9/11/11/11/1/11/1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Build(strings.NewReader(log), c.conv, 0, 180_000)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("minute %d: %s, want %s", k, got[k], v)
				}
			}
		})
	}
	if _, err := Build(strings.NewReader("{"), Convention{}, 0, 60_000); err == nil {
		t.Error("a broken log was accepted")
	}
}
