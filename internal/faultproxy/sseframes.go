package faultproxy

// sseCutter finds where to cut a text/event-stream as its bytes pass
// through, whatever the chunking: after the want-th dispatched frame that
// has an id field, or (midFrame) inside the next frame that has any field,
// just before the blank line that would dispatch it. Lines end with "\n",
// "\r\n" or "\r" (the WHATWG event-stream grammar); comment lines (":")
// never make a frame count.
type sseCutter struct {
	want     int
	midFrame bool

	idFrames int  // dispatched frames with an id
	reached  bool // idFrames == want: looking for the mid-frame cut
	lineLen  int  // bytes of the current line so far
	prefix   [3]byte
	afterCR  bool // the previous byte was "\r": a "\n" now ends nothing
	// cutPending: the last counted frame ended with "\r" at the end of a
	// piece; the cut waits for the next byte, which may be its "\n".
	cutPending bool
	hasID      bool // the current frame has an id field
	hasFields  bool // the current frame has any field line
}

// cut returns how many bytes of p to send and whether the stream is to be
// cut right after them.
func (c *sseCutter) cut(p []byte) (int, bool) {
	if c.cutPending && len(p) > 0 {
		if p[0] == '\n' {
			return 1, true
		}
		return 0, true
	}
	for i := 0; i < len(p); i++ {
		b := p[i]
		if c.afterCR {
			c.afterCR = false
			if b == '\n' {
				continue
			}
		}
		if b != '\r' && b != '\n' {
			if c.lineLen < len(c.prefix) {
				c.prefix[c.lineLen] = b
			}
			c.lineLen++
			continue
		}
		c.afterCR = b == '\r'
		if c.lineLen > 0 {
			c.endLine()
			continue
		}
		// A blank line: the end of a frame.
		if c.reached && c.hasFields {
			return i, true // everything but the dispatching blank line
		}
		if c.hasID && !c.reached {
			c.idFrames++
			if c.idFrames == c.want {
				if !c.midFrame {
					switch end := i + 1; {
					case b != '\r':
						return end, true
					case end < len(p):
						if p[end] == '\n' {
							end++
						}
						return end, true
					default:
						c.cutPending = true
						return end, false
					}
				}
				c.reached = true
			}
		}
		c.hasID, c.hasFields = false, false
	}
	return len(p), false
}

func (c *sseCutter) endLine() {
	n, pre := c.lineLen, c.prefix
	c.lineLen = 0
	if pre[0] == ':' {
		return
	}
	c.hasFields = true
	if (n == 2 && pre[0] == 'i' && pre[1] == 'd') || (n >= 3 && pre == [3]byte{'i', 'd', ':'}) {
		c.hasID = true
	}
}

// cutAtEOF reports whether a stream that ends before the cut point is cut
// anyway: only once the counted frames were all sent, since the client has
// then seen exactly want id frames.
func (c *sseCutter) cutAtEOF() bool { return c.reached || c.cutPending }
