package routeros

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/go-routeros/routeros/v3/proto"
)

// maxWordLen bounds one reply word. The largest thing wgboot reads is a
// /file "contents" of about 60 KB; a length far beyond that means the
// stream is out of step (or not the API at all), and allocating it would
// let a confused peer exhaust memory.
const maxWordLen = 1 << 20

// errProtocol marks replies that do not follow the API protocol. The
// stream is then out of step and the client is broken.
var errProtocol = errors.New("routeros: malformed reply from the router")

// sentenceReader reads API sentences. It is used instead of proto.Reader
// because that reader rejects the bare reason word of !fatal ("!fatal",
// "not logged in") and starts a goroutine for every read.
type sentenceReader struct {
	br *bufio.Reader
}

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
	if n > maxWordLen {
		return 0, fmt.Errorf("%w: word of %d bytes (limit %d)", errProtocol, n, maxWordLen)
	}
	return int(n), nil
}

func (r *sentenceReader) readWord() (string, error) {
	n, err := r.readLength()
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.br, b); err != nil {
		return "", noEOF(err)
	}
	return string(b), nil
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
// "=k=v" (and "=k", an empty value) go to List and Map, ".tag=" to Tag. A
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
	s := proto.NewSentence()
	s.Word = words[0]
	for _, w := range words[1:] {
		switch {
		case strings.HasPrefix(w, ".tag="):
			s.Tag = w[len(".tag="):]
		case strings.HasPrefix(w, "="):
			k, v, _ := strings.Cut(w[1:], "=")
			s.List = append(s.List, proto.Pair{Key: k, Value: v})
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
	left    int
}

func newDemux(tags, cmds []string) *demux {
	d := &demux{
		tags:    make(map[string]int, len(tags)),
		cmds:    cmds,
		replies: make([]*Reply, len(tags)),
		errs:    make([]error, len(tags)),
		done:    make([]bool, len(tags)),
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
		r.Re = append(r.Re, s.Map)
	case "!empty":
		r.Empty = true
	case "!trap":
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
