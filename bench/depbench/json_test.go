package depbench

import (
	"encoding/json"
	"testing"

	gojson "github.com/goccy/go-json"
	jsoniter "github.com/json-iterator/go"
)

// The decode candlewire does per frame: an envelope, then the payload into
// a struct that declares every key (see internal/exchange/binance/decode.go).
type envelope struct {
	Stream string          `json:"stream"`
	Data   json.RawMessage `json:"data"`
}

type aggTrade struct {
	E  string `json:"e"`
	ET int64  `json:"E"`
	S  string `json:"s"`
	A  int64  `json:"a"`
	P  string `json:"p"`
	Q  string `json:"q"`
	F  int64  `json:"f"`
	L  int64  `json:"l"`
	T  int64  `json:"T"`
	M  bool   `json:"m"`
	MI bool   `json:"M"`
}

func decodeWith(b *testing.B, unmarshal func([]byte, any) error) {
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for i := 0; i < b.N; i++ {
		var env envelope
		var a aggTrade
		if err := unmarshal(frame, &env); err != nil {
			b.Fatal(err)
		}
		if err := unmarshal(env.Data, &a); err != nil || a.P != "64321.57000000" || a.ET != 1633998523963 {
			b.Fatalf("%v %+v", err, a)
		}
	}
}

func BenchmarkJSONStdlib(b *testing.B) { decodeWith(b, json.Unmarshal) }
func BenchmarkJSONGoccy(b *testing.B)  { decodeWith(b, gojson.Unmarshal) }
func BenchmarkJSONIterator(b *testing.B) {
	decodeWith(b, jsoniter.ConfigCompatibleWithStandardLibrary.Unmarshal)
}
