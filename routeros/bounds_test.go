package routeros

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-routeros/routeros/v3/proto"
)

// floodRouter logs the client in, then answers its first command with
// whatever flood writes, tagged with the command's tag. It reports on
// gone when the client closed the connection under the flood.
func floodRouter(t *testing.T, flood func(w *bufio.Writer, tag string) error) (addr string, gone <-chan error) {
	t.Helper()
	ln := listenLoopback(t)
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		r := newSentenceReader(c)
		bw := bufio.NewWriterSize(c, 64<<10)
		pw := proto.NewWriter(bw)
		send := func(words ...string) error {
			pw.BeginSentence()
			for _, w := range words {
				pw.WriteWord(w)
			}
			pw.EndSentence()
			return bw.Flush()
		}
		for {
			words, err := r.readWords()
			if err != nil {
				done <- err
				return
			}
			var tag string
			for _, w := range words {
				if v, ok := strings.CutPrefix(w, ".tag="); ok {
					tag = v
				}
			}
			if words[0] == "/login" {
				send("!done", ".tag="+tag)
				continue
			}
			err = flood(bw, tag)
			if err == nil {
				err = bw.Flush()
			}
			done <- err
			// Hold the connection until the client closes it (or the
			// test ends), so that "closed by the client" is observable.
			io.Copy(io.Discard, c)
			return
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), done
}

// word encodes one API word (length prefix and bytes), for floods that
// the library's writer would buffer whole.
func word(w *bufio.Writer, s string) error {
	n := len(s)
	switch {
	case n < 0x80:
		w.WriteByte(byte(n))
	case n < 0x4000:
		w.Write([]byte{byte(n>>8) | 0x80, byte(n)})
	case n < 0x200000:
		w.Write([]byte{byte(n>>16) | 0xC0, byte(n >> 8), byte(n)})
	case n < 0x10000000:
		w.Write([]byte{byte(n>>24) | 0xE0, byte(n >> 16), byte(n >> 8), byte(n)})
	default:
		w.Write([]byte{0xF0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	}
	_, err := w.WriteString(s)
	return err
}

func sentence(w *bufio.Writer, words ...string) error {
	for _, s := range words {
		if err := word(w, s); err != nil {
			return err
		}
	}
	return word(w, "")
}

// TestReplyBounds: whatever a broken or hostile router sends in answer to
// one command, the client stops reading at a documented bound, returns
// ErrTooLarge naming it, closes the connection and leaves the session
// broken; memory stays near the bound. Each flood is finite (a few times
// the bound, then !done) so that, without the bounds, Run succeeds and the
// test fails instead of hanging.
func TestReplyBounds(t *testing.T) {
	big := strings.Repeat("x", 900<<10) // under maxWordLen
	tests := []struct {
		name     string
		flood    func(w *bufio.Writer, tag string) error
		wantText string
		maxAlloc uint64 // bytes the client may allocate for the call
	}{
		{
			name: "word length of 2 GB",
			flood: func(w *bufio.Writer, tag string) error {
				w.Write([]byte{0xF0, 0x7F, 0xFF, 0xFF, 0xFF})
				return nil
			},
			wantText: "a word of 2147483647 bytes",
			maxAlloc: 16 << 20,
		},
		{
			name: "endless rows",
			flood: func(w *bufio.Writer, tag string) error {
				tw := ".tag=" + tag
				for range 3 * maxReplyRows {
					if err := sentence(w, "!re", "=.id=*1", "=name=x", tw); err != nil {
						return err
					}
				}
				return sentence(w, "!done", ".tag="+tag)
			},
			wantText: fmt.Sprintf("more than %d rows", maxReplyRows),
			maxAlloc: 2 * maxReplyBytes,
		},
		{
			name: "endless bytes",
			flood: func(w *bufio.Writer, tag string) error {
				contents, tw := "=contents="+big, ".tag="+tag
				for range 3 * maxReplyBytes / len(big) {
					if err := sentence(w, "!re", contents, tw); err != nil {
						return err
					}
				}
				return sentence(w, "!done", ".tag="+tag)
			},
			wantText: "more than 64 MiB in one reply",
			maxAlloc: 2 * maxReplyBytes,
		},
		{
			name: "endless rows of tiny words",
			flood: func(w *bufio.Writer, tag string) error {
				row := []string{"!re"}
				for i := range maxSentenceWords - 2 {
					row = append(row, fmt.Sprintf("=%d", i))
				}
				row = append(row, ".tag="+tag)
				for range 3 * maxReplyBytes / (len(row) * 6) {
					if err := sentence(w, row...); err != nil {
						return err
					}
				}
				return sentence(w, "!done", ".tag="+tag)
			},
			wantText: "more than 64 MiB in one reply",
			maxAlloc: 2 * maxReplyBytes,
		},
		{
			name: "endless traps",
			flood: func(w *bufio.Writer, tag string) error {
				msg, tw := "=message="+strings.Repeat("t", 1000), ".tag="+tag
				for range 100000 {
					if err := sentence(w, "!trap", msg, tw); err != nil {
						return err
					}
				}
				return sentence(w, "!done", ".tag="+tag)
			},
			wantText: fmt.Sprintf("more than %d errors", maxTraps),
			maxAlloc: 64 << 20,
		},
		{
			name: "endless words in a sentence",
			flood: func(w *bufio.Writer, tag string) error {
				word(w, "!re")
				for i := range 3 * maxSentenceWords {
					if err := word(w, fmt.Sprintf("=k%d=v", i)); err != nil {
						return err
					}
				}
				if err := sentence(w, ".tag="+tag); err != nil {
					return err
				}
				return sentence(w, "!done", ".tag="+tag)
			},
			wantText: fmt.Sprintf("more than %d words", maxSentenceWords),
			maxAlloc: 64 << 20,
		},
		{
			name: "endless bytes in a sentence",
			flood: func(w *bufio.Writer, tag string) error {
				word(w, "!re")
				kv := "=k=" + big
				for range 3 * maxSentenceBytes / len(big) {
					if err := word(w, kv); err != nil {
						return err
					}
				}
				if err := sentence(w, ".tag="+tag); err != nil {
					return err
				}
				return sentence(w, "!done", ".tag="+tag)
			},
			wantText: "more than 4 MiB in one sentence",
			maxAlloc: 64 << 20,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, gone := floodRouter(t, tt.flood)
			c := dialFake(t, context.Background(), Config{Addr: addr, User: "admin", Timeout: 20 * time.Second})

			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.Run(context.Background(), "/ip/firewall/address-list/print")
			runtime.ReadMemStats(&after)

			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Run error = %v, want ErrTooLarge", err)
			}
			for _, want := range []string{tt.wantText, "the session was closed"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Run error = %q, want it to say %q", err, want)
				}
			}
			t.Logf("allocated %d MiB (TotalAlloc delta)", (after.TotalAlloc-before.TotalAlloc)>>20)
			if got := after.TotalAlloc - before.TotalAlloc; got > tt.maxAlloc {
				t.Errorf("the client allocated %d MiB for the reply, want at most %d MiB", got>>20, tt.maxAlloc>>20)
			}
			if _, err := c.Run(context.Background(), "/system/identity/print"); !errors.Is(err, ErrBroken) {
				t.Errorf("next Run error = %v, want ErrBroken", err)
			}
			// The client closed the connection: the flood stops with a
			// write error, or a small flood finished and the server sees
			// the close.
			select {
			case <-gone:
			case <-time.After(30 * time.Second):
				t.Errorf("the router can still write after the client gave up: the connection was not closed")
			}
		})
	}
}

// TestLimitsFitRealReplies: a 50 000-entry address list, the largest
// print a real router gives wgboot, stays within every bound.
func TestLimitsFitRealReplies(t *testing.T) {
	addr, _ := floodRouter(t, func(w *bufio.Writer, tag string) error {
		for i := range 50000 {
			err := sentence(w, "!re", fmt.Sprintf("=.id=*%X", i+1), "=list=blocklist",
				fmt.Sprintf("=address=10.%d.%d.0/24", i>>8, i&0xFF), "=creation-time=2026-01-02 03:04:05",
				"=timeout=", "=dynamic=false", "=disabled=false", "=comment=imported from a feed of known scanners",
				".tag="+tag)
			if err != nil {
				return err
			}
		}
		return sentence(w, "!done", ".tag="+tag)
	})
	c := dialFake(t, context.Background(), Config{Addr: addr, User: "admin", Timeout: time.Minute})
	r, err := c.Run(context.Background(), "/ip/firewall/address-list/print")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(r.Re) != 50000 {
		t.Errorf("got %d rows, want 50000", len(r.Re))
	}
}

// TestDeviceErrorEscapes: a trap message is the router's text; as an
// error it is one line, with its control characters shown, not obeyed.
func TestDeviceErrorEscapes(t *testing.T) {
	tests := []struct {
		err  *DeviceError
		want string
	}{
		{&DeviceError{Message: "no such item (4)", Command: "/ip/address/remove"}, "routeros: /ip/address/remove: router said: no such item (4)"},
		{&DeviceError{Message: "bad\x1b]0;pwned\x07\nwgboot: done\u202e", Fatal: true},
			`routeros: router closed the session: bad\x1b]0;pwned\x07\nwgboot: done\u202e`},
		{&DeviceError{Message: "x", Command: "/a\x1b[2J"}, `routeros: /a\x1b[2J: router said: x`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
