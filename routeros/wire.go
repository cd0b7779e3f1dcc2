package routeros

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unsafe"

	"github.com/go-routeros/routeros/v3/proto"
)

// Bounds on one reply. A broken or hostile router (or something else on
// the API port) may send without end; the client gives up at these bounds,
// closes the connection and returns ErrTooLarge, so its memory stays near
// maxReplyBytes whatever arrives. They are generous for RouterOS: the
// largest things wgboot reads are a /file "contents" of about 60 KB (one
// word) and an address list of 50 000 entries (about 8 MB on the wire, 51
// MiB counted with the allowances below, 50 000 rows; see
// TestLimitsFitRealReplies); a real row has well under 100 attributes.
const (
	maxWordLen       = 1 << 20  // bytes in one word
	maxSentenceWords = 4096     // words in one sentence
	maxSentenceBytes = 4 << 20  // bytes in one sentence
	maxReplyBytes    = 64 << 20 // bytes read for one call (Run, or a whole Batch), with the allowances below
	maxReplyRows     = 100000   // !re rows for one call
	maxTraps         = 16       // !trap sentences for one command (RouterOS sends one or two)

	// A word and a sentence cost more in memory (map entries, a map per
	// row) than on the wire: each is charged this much extra against
	// maxReplyBytes, so that a flood of tiny words or rows is bounded like
	// one of large words. The client then holds at most about twice
	// maxReplyBytes for one call (measured by TestReplyBounds).
	wordAllowance     = 80
	sentenceAllowance = 256
)

// ErrTooLarge means the router's reply passed one of the client's bounds
// (a word, a sentence, the bytes or rows of one reply, or the errors for
// one command). The client closed the connection and is broken: no RouterOS
// sends such a reply, so the peer is broken, hostile or not the API.
var ErrTooLarge = errors.New("routeros: the router's reply is too large")

func tooLarge(format string, args ...any) error {
	return fmt.Errorf("%w: the router sent "+format, append([]any{ErrTooLarge}, args...)...)
}

// mib renders a bound in the unit a technician reads.
func mib(n int) string { return fmt.Sprintf("%d MiB", n>>20) }

// errProtocol marks replies that do not follow the API protocol. The
// stream is then out of step and the client is broken.
var errProtocol = errors.New("routeros: malformed reply from the router")

// sentenceReader reads API sentences. It is used instead of proto.Reader
// because that reader rejects the bare reason word of !fatal ("!fatal",
// "not logged in") and starts a goroutine for every read.
type sentenceReader struct {
	br *bufio.Reader
	// replyBytes counts what was read since startReply, against
	// maxReplyBytes.
	replyBytes int
}

// startReply resets the per-reply byte count; the client calls it before
// reading the replies of each call.
func (r *sentenceReader) startReply() { r.replyBytes = 0 }

func newSentenceReader(r io.Reader) *sentenceReader {
	return &sentenceReader{br: bufio.NewReader(r)}
}

func (r *sentenceReader) readLength() (int, error) {
	b, err := r.br.ReadByte()
	if err != nil {
		return 0, err
	}
	var extra int
	var n uint32
	switch {
	case b&0x80 == 0:
		return int(b), nil
	case b&0xC0 == 0x80:
		extra, n = 1, uint32(b&0x3F)
	case b&0xE0 == 0xC0:
		extra, n = 2, uint32(b&0x1F)
	case b&0xF0 == 0xE0:
		extra, n = 3, uint32(b&0x0F)
	case b == 0xF0:
		extra, n = 4, 0
	default:
		// 0xF1..0xFF: reserved control bytes, never sent by RouterOS in
		// a reply.
		return 0, fmt.Errorf("%w: control byte 0x%02x where a word length was expected", errProtocol, b)
	}
	for range extra {
		c, err := r.br.ReadByte()
		if err != nil {
			return 0, noEOF(err)
		}
		n = n<<8 | uint32(c)
	}
	// Checked before anything is allocated: a length prefix is not
	// evidence that the bytes will follow.
	if n > maxWordLen {
		return 0, tooLarge("a word of %d bytes (more than %s)", n, mib(maxWordLen))
	}
	return int(n), nil
}

func (r *sentenceReader) readWord() (string, error) {
	n, err := r.readLength()
	if err != nil {
		return "", err
	}
	cost := n + wordAllowance
	if n == 0 {
		cost = sentenceAllowance // the end of a sentence: a row's map
	}
	if r.replyBytes += cost; r.replyBytes > maxReplyBytes {
		return "", tooLarge("more than %s in one reply", mib(maxReplyBytes))
	}
	if n == 0 {
		return "", nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.br, b); err != nil {
		return "", noEOF(err)
	}
	// b is never written again: sharing it saves a copy of every reply
	// byte, which halves what a large reply costs.
	return unsafe.String(&b[0], n), nil
}

// noEOF turns an EOF inside a sentence into ErrUnexpectedEOF: only a
// stream ending between sentences is a clean end.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readWords reads one sentence as raw words (the terminating empty word
// dropped). Empty sentences carry nothing and are skipped; RouterOS does
// not send them.
func (r *sentenceReader) readWords() ([]string, error) {
	var words []string
	size := 0
	for {
		w, err := r.readWord()
		if err != nil {
			if len(words) > 0 {
				err = noEOF(err)
			}
			return nil, err
		}
		if w == "" {
			if len(words) == 0 {
				continue
			}
			return words, nil
		}
		if len(words) == maxSentenceWords {
			return nil, tooLarge("more than %d words in one sentence", maxSentenceWords)
		}
		if size += len(w); size > maxSentenceBytes {
			return nil, tooLarge("more than %s in one sentence", mib(maxSentenceBytes))
		}
		words = append(words, w)
	}
}

// ReadSentence reads one reply sentence (see parseReply).
func (r *sentenceReader) ReadSentence() (*proto.Sentence, error) {
	words, err := r.readWords()
	if err != nil {
		return nil, err
	}
	return parseReply(words)
}

// parseReply turns a reply's words into a sentence. Attribute words
// "=k=v" (and "=k", an empty value) go to Map, ".tag=" to Tag. A
// bare word after !fatal is its reason and is stored as "message"; any
// other word shape is a protocol error.
func parseReply(words []string) (*proto.Sentence, error) {
	if len(words) == 0 || !strings.HasPrefix(words[0], "!") {
		var w string
		if len(words) > 0 {
			w = words[0]
		}
		return nil, fmt.Errorf("%w: reply starts with %.40q, not a !word", errProtocol, w)
	}
	// Only Map is filled (the client reads nothing else), sized once: a
	// row's words would otherwise be stored twice and the map regrown,
	// tripling what a large reply costs in memory.
	s := &proto.Sentence{Word: words[0], Map: make(map[string]string, len(words)-1)}
	for _, w := range words[1:] {
		switch {
		case strings.HasPrefix(w, ".tag="):
			s.Tag = w[len(".tag="):]
		case strings.HasPrefix(w, "="):
			k, v, _ := strings.Cut(w[1:], "=")
			s.Map[k] = v
		case s.Word == "!fatal":
			if _, ok := s.Map["message"]; !ok {
				s.Map["message"] = w
			}
		default:
			return nil, fmt.Errorf("%w: word %.40q in a %s reply", errProtocol, w, s.Word)
		}
	}
	return s, nil
}

// demux collects the replies of one batch of tagged commands. Feed it
// sentences in arrival order; it tells which commands are complete.
//
// State per command: pending until its !done (or a !fatal) arrives, then
// done with either a nil error or the first !trap it got.
type demux struct {
	tags    map[string]int // tag -> index into replies
	cmds    []string       // command word per index, for error text
	replies []*Reply
	errs    []error
	done    []bool
	traps   []int
	rows    int // !re rows of all commands, against maxReplyRows
	left    int
}

func newDemux(tags, cmds []string) *demux {
	d := &demux{
		tags:    make(map[string]int, len(tags)),
		cmds:    cmds,
		replies: make([]*Reply, len(tags)),
		errs:    make([]error, len(tags)),
		done:    make([]bool, len(tags)),
		traps:   make([]int, len(tags)),
	}
	for i, t := range tags {
		if t == "" {
			// Not sent (invalid command): already complete.
			d.done[i] = true
			continue
		}
		d.tags[t] = i
		d.replies[i] = &Reply{}
		d.left++
	}
	return d
}

// Reply is a command's reply: one map per !re row, and the attributes of
// !done (e.g. "ret" after add).
type Reply struct {
	Re   []map[string]string
	Done map[string]string
	// Empty is true when the router answered !empty (RouterOS 7.18+: a
	// print that matched nothing).
	Empty bool
}

// feed handles one sentence. It returns a non-nil error when the stream
// can no longer be trusted (protocol error or !fatal); outstanding
// commands then get that error.
func (d *demux) feed(s *proto.Sentence) error {
	if s.Word == "!fatal" {
		de := &DeviceError{Message: s.Map["message"], Category: category(s.Map), Fatal: true}
		if i, ok := d.tags[s.Tag]; ok && s.Tag != "" {
			de.Command = d.cmds[i]
		}
		d.failPending(de)
		return de
	}
	i, ok := d.tags[s.Tag]
	if !ok || d.done[i] {
		return fmt.Errorf("%w: %s reply with unexpected tag %.40q", errProtocol, s.Word, s.Tag)
	}
	r := d.replies[i]
	switch s.Word {
	case "!re":
		if d.rows++; d.rows > maxReplyRows {
			return tooLarge("more than %d rows in one reply", maxReplyRows)
		}
		r.Re = append(r.Re, s.Map)
	case "!empty":
		r.Empty = true
	case "!trap":
		if d.traps[i]++; d.traps[i] > maxTraps {
			return tooLarge("more than %d errors for %s", maxTraps, d.cmds[i])
		}
		de := &DeviceError{Message: s.Map["message"], Category: category(s.Map), Command: d.cmds[i]}
		if prev, ok := d.errs[i].(*DeviceError); ok {
			// A misspelled menu gives two traps ("no such command or
			// directory (x)", "no such command prefix"): keep the first
			// category, both texts.
			prev.Message += "; " + de.Message
		} else {
			d.errs[i] = de
		}
	case "!done":
		r.Done = s.Map
		d.done[i] = true
		d.left--
	default:
		return fmt.Errorf("%w: unknown reply word %.40q", errProtocol, s.Word)
	}
	return nil
}

// failPending completes every outstanding command with err.
func (d *demux) failPending(err error) {
	for i, done := range d.done {
		if !done {
			d.done[i] = true
			d.errs[i] = err
		}
	}
	d.left = 0
}

func category(m map[string]string) int {
	c, ok := m["category"]
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(c)
	if err != nil {
		return -1
	}
	return n
}
