package wsconn

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// read is the connection's reader goroutine: it parses frames until the
// connection ends, then closes the socket and tells the handler.
func (c *Conn) read() {
	err := c.readFrames()
	if ce := c.closeErr(); ce != nil {
		err = ce // how it closed matters more than how the last read ended
	}
	c.mu.Lock()
	c.closeSocketLocked()
	c.out = nil
	c.mu.Unlock()
	c.h.Closed(err)
}

// frameError is a client's protocol violation: the connection closes with
// its code.
type frameError struct {
	code   ws.StatusCode
	reason string
}

func (e *frameError) Error() string { return e.reason }

// readFrames reads until the connection fails or the close handshake
// ends. A violation closes the connection with its code.
func (c *Conn) readFrames() error {
	var fr frameReader
	fr.max = c.cfg.MaxMessage
	for {
		op, msg, payload, err := fr.next(c.r)
		var fe *frameError
		switch {
		case errors.As(err, &fe):
			c.Close(fe.code, fe.reason)
			return c.drain()
		case err != nil:
			return err
		}
		switch op {
		case ws.OpPing:
			c.Write(ws.MustCompileFrame(ws.NewPongFrame(payload))) //nolint:errcheck // a failed write ends the reads
		case ws.OpPong:
			c.waiting.Store(false)
		case ws.OpClose:
			return c.remoteClose(payload)
		default:
			if c.closeErr() == nil {
				c.h.Message(msg)
			}
		}
	}
}

// remoteClose answers the client's close frame (when the server did not close
// first) and ends the connection.
func (c *Conn) remoteClose(payload []byte) error {
	code, reason := ws.ParseCloseFrameData(payload)
	if code.Empty() {
		code = ws.StatusNoStatusRcvd
	}
	echo := code // RFC 6455 §5.5.1: answer with the code received, if it may be sent
	if code.IsProtocolReserved() || code.IsNotUsed() {
		echo = ws.StatusNormalClosure
	}
	c.closeWith(&CloseError{Code: code, Reason: reason, Remote: true}, echo)
	return nil
}

// drain reads and drops frames after the server's close frame until the
// client's close, EOF or the close timeout.
func (c *Conn) drain() error {
	var fr frameReader
	fr.max = c.cfg.MaxMessage
	for {
		op, _, _, err := fr.next(c.r)
		if err != nil || op == ws.OpClose {
			return nil
		}
	}
}

// frameReader assembles messages from frames.
type frameReader struct {
	max int64
	hdr [ws.MaxHeaderSize - 2]byte
	ctl [125]byte
	op  ws.OpCode // of the message being assembled; 0 when none
	msg []byte
}

// next returns the next control frame (op, nil, payload) or complete data
// message (op, message, nil). A *frameError is a protocol violation.
func (fr *frameReader) next(r io.Reader) (ws.OpCode, []byte, []byte, error) {
	for {
		h, err := ws.ReadHeaderBuffer(r, fr.hdr[:])
		if err != nil {
			return 0, nil, nil, err
		}
		if err := fr.check(h); err != nil {
			return 0, nil, nil, err
		}
		if h.OpCode.IsControl() {
			p := fr.ctl[:h.Length]
			if _, err := io.ReadFull(r, p); err != nil {
				return 0, nil, nil, err
			}
			ws.Cipher(p, h.Mask, 0)
			return h.OpCode, nil, p, nil
		}
		if h.OpCode != ws.OpContinuation {
			fr.op = h.OpCode
		}
		n := len(fr.msg)
		fr.msg = slices.Grow(fr.msg, int(h.Length))[:n+int(h.Length)] // h.Length was checked against max
		if _, err := io.ReadFull(r, fr.msg[n:]); err != nil {
			return 0, nil, nil, err
		}
		ws.Cipher(fr.msg[n:], h.Mask, 0)
		if !h.Fin {
			continue
		}
		op, msg := fr.op, fr.msg
		fr.op, fr.msg = 0, nil
		if op == ws.OpText && !utf8.Valid(msg) {
			return 0, nil, nil, &frameError{StatusBadData, "text message is not UTF-8"}
		}
		return op, msg, nil, nil
	}
}

// check applies RFC 6455's rules for client frames and the size limit.
func (fr *frameReader) check(h ws.Header) error {
	switch {
	case !h.Masked:
		return &frameError{StatusProtocolError, "client frames must be masked"}
	case h.Rsv != 0:
		return &frameError{StatusProtocolError, "reserved bits set (no extension was negotiated)"}
	case h.OpCode.IsReserved():
		return &frameError{StatusProtocolError, fmt.Sprintf("reserved opcode %d", h.OpCode)}
	case h.OpCode.IsControl() && (!h.Fin || h.Length > 125):
		return &frameError{StatusProtocolError, "control frames must be whole and at most 125 bytes"}
	case h.OpCode.IsControl():
		return nil
	case h.OpCode == ws.OpContinuation && fr.op == 0:
		return &frameError{StatusProtocolError, "continuation frame without a message"}
	case h.OpCode != ws.OpContinuation && fr.op != 0:
		return &frameError{StatusProtocolError, "new message before the last one ended"}
	case h.Length < 0 || int64(len(fr.msg))+h.Length > fr.max:
		return &frameError{StatusTooBig, "message too big"}
	}
	return nil
}
