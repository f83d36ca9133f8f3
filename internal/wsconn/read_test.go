package wsconn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/gobwas/ws"
)

// clientFrame builds a masked client frame.
func clientFrame(fin bool, rsv byte, op ws.OpCode, p []byte) []byte {
	b0 := byte(op) | rsv<<4
	if fin {
		b0 |= 0x80
	}
	var b []byte
	switch n := len(p); {
	case n < 126:
		b = []byte{b0, 0x80 | byte(n)}
	case n <= 0xffff:
		b = []byte{b0, 0x80 | 126, byte(n >> 8), byte(n)}
	default:
		b = binary.BigEndian.AppendUint64([]byte{b0, 0x80 | 127}, uint64(n))
	}
	mask := [4]byte{1, 2, 3, 4}
	b = append(b, mask[:]...)
	m := append([]byte(nil), p...)
	ws.Cipher(m, mask, 0)
	return append(b, m...)
}

func unmasked(op ws.OpCode, p []byte) []byte {
	return append([]byte{0x80 | byte(op), byte(len(p))}, p...)
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func TestFrameReader(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 200)
	for _, tc := range []struct {
		name    string
		in      []byte
		wantOp  ws.OpCode
		wantMsg string // data message, or control payload
		code    ws.StatusCode
	}{
		{name: "text", in: clientFrame(true, 0, ws.OpText, []byte(`{"op":"ping"}`)), wantOp: ws.OpText, wantMsg: `{"op":"ping"}`},
		{name: "binary", in: clientFrame(true, 0, ws.OpBinary, []byte{0, 1, 2}), wantOp: ws.OpBinary, wantMsg: "\x00\x01\x02"},
		{name: "fragmented with a ping between", in: cat(clientFrame(false, 0, ws.OpText, []byte("hel")), clientFrame(true, 0, ws.OpPing, []byte("p"))),
			wantOp: ws.OpPing, wantMsg: "p"},
		{name: "16-bit length", in: clientFrame(true, 0, ws.OpText, big), wantOp: ws.OpText, wantMsg: string(big)},
		{name: "unmasked", in: unmasked(ws.OpText, []byte("hi")), code: StatusProtocolError},
		{name: "reserved bits", in: clientFrame(true, 4, ws.OpText, []byte("hi")), code: StatusProtocolError},
		{name: "reserved opcode", in: clientFrame(true, 0, 3, nil), code: StatusProtocolError},
		{name: "fragmented control", in: clientFrame(false, 0, ws.OpPing, nil), code: StatusProtocolError},
		{name: "long control", in: clientFrame(true, 0, ws.OpPing, big), code: StatusProtocolError},
		{name: "continuation first", in: clientFrame(true, 0, ws.OpContinuation, []byte("x")), code: StatusProtocolError},
		{name: "new message inside another", in: cat(clientFrame(false, 0, ws.OpText, []byte("a")), clientFrame(true, 0, ws.OpText, []byte("b"))), code: StatusProtocolError},
		{name: "too big", in: clientFrame(true, 0, ws.OpText, bytes.Repeat([]byte("x"), 101)), code: StatusTooBig},
		{name: "too big across fragments", in: cat(clientFrame(false, 0, ws.OpText, big[:60]), clientFrame(true, 0, ws.OpContinuation, big[:60])), code: StatusTooBig},
		{name: "bad utf-8", in: clientFrame(true, 0, ws.OpText, []byte{0xff, 0xfe}), code: StatusBadData},
		{name: "huge declared length", in: []byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, code: StatusTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := frameReader{max: 100}
			if tc.name == "16-bit length" {
				fr.max = 1000
			}
			op, msg, ctl, err := fr.next(bytes.NewReader(tc.in))
			var fe *frameError
			switch {
			case tc.code != 0:
				if !errors.As(err, &fe) || fe.code != tc.code {
					t.Fatalf("got %v, want close code %d", err, tc.code)
				}
			case err != nil:
				t.Fatal(err)
			case op != tc.wantOp:
				t.Fatalf("op %v, want %v", op, tc.wantOp)
			case op.IsControl() && string(ctl) != tc.wantMsg, !op.IsControl() && string(msg) != tc.wantMsg:
				t.Fatalf("got %q %q, want %q", msg, ctl, tc.wantMsg)
			}
		})
	}
}

// TestFragmentsAssemble reads a message sent in three frames.
func TestFragmentsAssemble(t *testing.T) {
	in := cat(clientFrame(false, 0, ws.OpText, []byte("can")), clientFrame(false, 0, ws.OpContinuation, []byte("dle")),
		clientFrame(true, 0, ws.OpPong, nil), clientFrame(true, 0, ws.OpContinuation, []byte("wire")))
	fr := frameReader{max: 100}
	r := bytes.NewReader(in)
	if op, _, _, err := fr.next(r); err != nil || op != ws.OpPong {
		t.Fatalf("first: %v %v, want the pong between the fragments", op, err)
	}
	op, msg, _, err := fr.next(r)
	if err != nil || op != ws.OpText || string(msg) != "candlewire" {
		t.Fatalf("got %v %q %v", op, msg, err)
	}
	if _, _, _, err := fr.next(r); err != io.EOF {
		t.Fatalf("after the message: %v, want EOF", err)
	}
}

// FuzzFrameReader feeds arbitrary bytes: the reader never panics, never
// returns a message over its limit, and a control payload stays within
// 125 bytes.
func FuzzFrameReader(f *testing.F) {
	f.Add(clientFrame(true, 0, ws.OpText, []byte(`{"op":"subscribe","id":1,"streams":["binance:BTCUSDT@1m"]}`)))
	f.Add(cat(clientFrame(false, 0, ws.OpText, []byte("a")), clientFrame(true, 0, ws.OpContinuation, []byte("b"))))
	f.Add(clientFrame(true, 0, ws.OpClose, []byte{3, 232, 'b', 'y', 'e'}))
	f.Add(unmasked(ws.OpText, []byte("x")))
	f.Add([]byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		fr := frameReader{max: 256}
		r := bytes.NewReader(in)
		for range 64 {
			op, msg, ctl, err := fr.next(r)
			if err != nil {
				return
			}
			if len(msg) > 256 || len(ctl) > 125 {
				t.Fatalf("op %v: message %d bytes, control %d bytes", op, len(msg), len(ctl))
			}
		}
	})
}
