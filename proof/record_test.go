package proof

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/wgboot/wgboot/vpn"
)

// errShort means the buffer ends inside a word: read more.
var errShort = errors.New("proof: sentence incomplete")

// decodeWord reads one API word (length-prefixed, RouterOS API encoding)
// from b and returns it with the bytes it used.
func decodeWord(b []byte) (string, int, error) {
	if len(b) == 0 {
		return "", 0, errShort
	}
	c := b[0]
	var n, hdr int
	switch {
	case c < 0x80:
		n, hdr = int(c), 1
	case c < 0xC0:
		hdr = 2
		if len(b) < hdr {
			return "", 0, errShort
		}
		n = int(c&0x3F)<<8 | int(b[1])
	case c < 0xE0:
		hdr = 3
		if len(b) < hdr {
			return "", 0, errShort
		}
		n = int(c&0x1F)<<16 | int(b[1])<<8 | int(b[2])
	case c < 0xF0:
		hdr = 4
		if len(b) < hdr {
			return "", 0, errShort
		}
		n = int(c&0x0F)<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	case c == 0xF0:
		hdr = 5
		if len(b) < hdr {
			return "", 0, errShort
		}
		n = int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4])
	default:
		return "", 0, errors.New("proof: control byte in word length")
	}
	if n < 0 || n > 1<<24 {
		return "", 0, errors.New("proof: word too long")
	}
	if len(b) < hdr+n {
		return "", 0, errShort
	}
	return string(b[hdr : hdr+n]), hdr + n, nil
}

// decodeSentences splits b into complete sentences (a sentence ends with
// an empty word) and returns what is left over.
func decodeSentences(b []byte) ([][]string, []byte, error) {
	var out [][]string
	for {
		var words []string
		off := 0
		for {
			w, n, err := decodeWord(b[off:])
			if errors.Is(err, errShort) {
				return out, b, nil
			}
			if err != nil {
				return out, b, err
			}
			off += n
			if w == "" {
				break
			}
			words = append(words, w)
		}
		b = b[off:]
		if len(words) > 0 {
			out = append(out, words)
		}
	}
}

// recorder logs the command word of every API sentence the engine sends,
// over every connection (the original path and the tunnel), in order.
type recorder struct {
	mu   sync.Mutex // guards following
	cmds []string
	err  error
}

func (r *recorder) commands() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.cmds...), r.err
}

func (r *recorder) wrap(c net.Conn) net.Conn { return &recConn{Conn: c, r: r} }

func (r *recorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return r.wrap(c), nil
}

type recConn struct {
	net.Conn
	r   *recorder
	buf []byte // guarded by r.mu
}

func (c *recConn) Write(p []byte) (int, error) {
	c.r.mu.Lock()
	c.buf = append(c.buf, p...)
	sens, rest, err := decodeSentences(c.buf)
	c.buf = append([]byte(nil), rest...)
	for _, s := range sens {
		if strings.HasPrefix(s[0], "/") {
			c.r.cmds = append(c.r.cmds, s[0])
		}
	}
	if err != nil && c.r.err == nil {
		c.r.err = err
	}
	c.r.mu.Unlock()
	return c.Conn.Write(p)
}

// recBackend is a local WireGuard peer whose tunnel connections are recorded.
type recBackend struct {
	vpn.Backend
	r *recorder
}

func (b recBackend) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := b.Backend.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return b.r.wrap(c), nil
}

// isWrite reports whether an API command changes the router (what the
// fault matrix must cover at the least).
func isWrite(path string) bool {
	if path == "/export" {
		return true // writes a file on the router
	}
	i := strings.LastIndex(path, "/")
	switch path[i+1:] {
	case "add", "set", "remove", "move", "enable", "disable", "unset", "save", "run", "reboot":
		return true
	}
	return false
}

func encodeWord(w string) []byte {
	n := len(w)
	var h []byte
	switch {
	case n < 0x80:
		h = []byte{byte(n)}
	case n < 0x4000:
		h = []byte{byte(n>>8) | 0x80, byte(n)}
	case n < 0x200000:
		h = []byte{byte(n>>16) | 0xC0, byte(n >> 8), byte(n)}
	case n < 0x10000000:
		h = []byte{byte(n>>24) | 0xE0, byte(n >> 16), byte(n >> 8), byte(n)}
	default:
		h = []byte{0xF0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return append(h, w...)
}

func encodeSentence(words ...string) []byte {
	var b []byte
	for _, w := range words {
		b = append(b, encodeWord(w)...)
	}
	return append(b, 0)
}

func TestDecodeSentences(t *testing.T) {
	long := strings.Repeat("x", 200)
	huge := strings.Repeat("y", 20000)
	stream := append(encodeSentence("/login", "=name=admin"), encodeSentence("/ip/firewall/filter/add", "=comment="+long, "=x="+huge)...)
	for cut := 0; cut <= len(stream); cut += 97 {
		var got [][]string
		s1, rest, err := decodeSentences(stream[:cut])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s1...)
		s2, rest, err := decodeSentences(append(rest, stream[cut:]...))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s2...)
		if len(rest) != 0 || len(got) != 2 || got[0][0] != "/login" || got[1][0] != "/ip/firewall/filter/add" || got[1][2] != "=x="+huge {
			t.Fatalf("cut %d: got %d sentences, %d bytes left", cut, len(got), len(rest))
		}
	}
}

func FuzzDecodeSentences(f *testing.F) {
	f.Add(encodeSentence("/login", "=name=admin"))
	f.Add(encodeSentence("/system/identity/print"))
	f.Add([]byte{0xF8, 0, 0})
	f.Add([]byte{0x81})
	f.Fuzz(func(t *testing.T, b []byte) {
		sens, rest, err := decodeSentences(b)
		if err != nil {
			return
		}
		// Re-encoding what was decoded gives back the bytes used.
		var enc []byte
		for _, s := range sens {
			enc = append(enc, encodeSentence(s...)...)
		}
		if len(enc)+len(rest) > len(b) {
			t.Fatalf("decoded more than was given")
		}
	})
}
