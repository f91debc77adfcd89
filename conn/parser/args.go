package parser

// span is a token's position inside a control line's arguments.
type span struct{ off, end int }

func (s span) in(arg []byte) []byte { return arg[s.off:s.end:s.end] }

// maxTokens is one more than any op takes, so "too many" is visible.
const maxTokens = 5

// tokens holds the argument split of one control line.
type tokens struct {
	n int // how many tokens the line had; only the first maxTokens are kept
	t [maxTokens]span
}

// Two notions of blank, as in nats-server: PUB and HPUB split their
// arguments on spaces and tabs only, SUB and UNSUB also on CR and LF.
var (
	pubBlank = blankSet(" \t")
	subBlank = blankSet(" \t\r\n")
)

func blankSet(s string) (set [256]bool) {
	for i := 0; i < len(s); i++ {
		set[s[i]] = true
	}
	return set
}

// split fills tk with the tokens of arg separated by runs of blanks.
func (tk *tokens) split(arg []byte, blank *[256]bool) {
	tk.n = 0
	start := -1
	for i, b := range arg {
		if blank[b] {
			if start >= 0 {
				tk.add(start, i)
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		tk.add(start, len(arg))
	}
}

func (tk *tokens) add(off, end int) {
	if tk.n < maxTokens {
		tk.t[tk.n] = span{off, end}
	}
	tk.n++
}

// maxSizeDigits is the longest size nats-server accepts: nine digits.
const maxSizeDigits = 9

// parseSize reads a size or count: one to nine ASCII digits, no sign.
// It returns -1 for anything else.
func parseSize(d []byte) int {
	if len(d) == 0 || len(d) > maxSizeDigits {
		return -1
	}
	n := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// pubArgs is what the PUB/HPUB control line announced, kept until the body
// has been read. Subject and reply are positions in the line so that the
// line can be moved into scratch space without fixing up pointers.
type pubArgs struct {
	subject span
	reply   span // empty when absent
	hdr     int  // header length; -1 for PUB
	size    int  // total body length, headers included
	discard bool // HMSG from a client: read the (empty) body, deliver nothing
}

// parsePub splits a PUB (hdr == false) or HPUB control line, checking what
// nats-server checks and in its order: argument count, header size, total
// size, header size against total size, then max_payload (negative: none).
func (pa *pubArgs) parsePub(arg []byte, hdr bool, maxPayload int, tk *tokens) *ProtoError {
	tk.split(arg, &pubBlank)
	op, min := "PUB", 2
	if hdr {
		op, min = "HPUB", 3
	}
	if tk.n != min && tk.n != min+1 {
		return protoErr(BadArgs, "%s: want %d or %d arguments, got %d: %s", op, min, min+1, tk.n, snippet(arg))
	}
	last := tk.n - 1
	*pa = pubArgs{subject: tk.t[0], hdr: -1}
	if tk.n == min+1 {
		pa.reply = tk.t[1]
	}
	if hdr {
		pa.hdr = parseSize(tk.t[last-1].in(arg))
		if pa.hdr < 0 {
			return protoErr(BadArgs, "HPUB: bad or missing header size: %s", snippet(arg))
		}
	}
	pa.size = parseSize(tk.t[last].in(arg))
	if pa.size < 0 {
		return protoErr(BadArgs, "%s: bad or missing size: %s", op, snippet(arg))
	}
	if pa.hdr > pa.size {
		return protoErr(BadArgs, "HPUB: header size %d larger than total size %d", pa.hdr, pa.size)
	}
	if maxPayload >= 0 && pa.size > maxPayload {
		return protoErr(MaxPayload, "%s: size %d exceeds max_payload %d", op, pa.size, maxPayload)
	}
	return nil
}
