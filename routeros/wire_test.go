package routeros

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-routeros/routeros/v3/proto"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// encode writes sentences with the library's writer, as RouterOS would.
func encode(t testing.TB, sentences ...[]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := proto.NewWriter(&buf)
	for _, s := range sentences {
		w.BeginSentence()
		for _, word := range s {
			w.WriteWord(word)
		}
		if err := w.EndSentence(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestReadSentence(t *testing.T) {
	long := strings.Repeat("x", 0x4001) // needs a 3-byte length
	tests := []struct {
		name    string
		in      []byte
		want    []*proto.Sentence
		wantErr error
	}{
		{
			name: "re and done",
			in:   encode(t, []string{"!re", "=.id=*1", "=comment=a=b", "=flag", ".tag=3"}, []string{"!done", ".tag=3"}),
			want: []*proto.Sentence{
				{Word: "!re", Tag: "3",
					Map: map[string]string{".id": "*1", "comment": "a=b", "flag": ""}},
				{Word: "!done", Tag: "3", Map: map[string]string{}},
			},
		},
		{
			name: "long word",
			in:   encode(t, []string{"!re", "=contents=" + long}),
			want: []*proto.Sentence{{Word: "!re", Map: map[string]string{"contents": long}}},
		},
		{
			name: "fatal with bare reason",
			in:   encode(t, []string{"!fatal", "not logged in"}),
			want: []*proto.Sentence{{Word: "!fatal", Map: map[string]string{"message": "not logged in"}}},
		},
		{
			name: "empty sentences skipped",
			in:   append([]byte{0, 0}, encode(t, []string{"!empty", ".tag=1"})...),
			want: []*proto.Sentence{{Word: "!empty", Tag: "1", Map: map[string]string{}}},
		},
		{name: "bare word in re", in: encode(t, []string{"!re", "oops"}), wantErr: errProtocol},
		{name: "not a reply", in: encode(t, []string{"/ip/address/print"}), wantErr: errProtocol},
		{name: "control byte", in: []byte{0xF8}, wantErr: errProtocol},
		{name: "huge word", in: []byte{0xF0, 0x7F, 0xFF, 0xFF, 0xFF}, wantErr: ErrTooLarge},
		{name: "cut in a word", in: encode(t, []string{"!done"})[:3], wantErr: io.ErrUnexpectedEOF},
		{name: "cut between words", in: encode(t, []string{"!re", "=a=b"})[:4], wantErr: io.ErrUnexpectedEOF},
		{name: "cut in a length", in: []byte{0x80}, wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSentenceReader(bytes.NewReader(tt.in))
			var got []*proto.Sentence
			var err error
			for {
				var s *proto.Sentence
				if s, err = r.ReadSentence(); err != nil {
					break
				}
				got = append(got, s)
			}
			if tt.wantErr == nil && err != io.EOF {
				t.Fatalf("ReadSentence error = %v, want a clean EOF", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadSentence error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("sentences (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzReadSentence: arbitrary bytes never panic; whatever the library's
// writer encodes reads back word for word.
func FuzzReadSentence(f *testing.F) {
	f.Add([]byte("\x03!re\x07=.id=*1\x00\x05!done\x00"), "!re", "=a=b")
	f.Add([]byte{0xF0, 0x00, 0x00, 0x00, 0x01, 'x', 0}, "!fatal", "bye")
	f.Add([]byte{0xC0, 0x40, 0x00}, "!done", "=ret=*1")
	f.Add([]byte{0x80, 0x80}, "!trap", ".tag=9")
	f.Fuzz(func(t *testing.T, raw []byte, w1, w2 string) {
		r := newSentenceReader(bytes.NewReader(raw))
		for range 64 {
			if _, err := r.ReadSentence(); err != nil {
				break
			}
		}
		if w1 == "" || w2 == "" {
			return
		}
		in := encode(t, []string{w1, w2})
		got, err := newSentenceReader(bytes.NewReader(in)).readWords()
		if err != nil {
			t.Fatalf("readWords of an encoded sentence: %v", err)
		}
		if diff := cmp.Diff([]string{w1, w2}, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	})
}

// FuzzDemux feeds arbitrary reply streams to a batch of three tagged
// commands: it never panics, never completes a command twice, and after
// a clean finish every command has a reply or an error.
func FuzzDemux(f *testing.F) {
	f.Add(encode(f, []string{"!re", "=a=1", ".tag=2"}, []string{"!done", ".tag=2"}, []string{"!empty", ".tag=1"},
		[]string{"!done", ".tag=1"}, []string{"!trap", "=message=x", ".tag=3"}, []string{"!done", ".tag=3"}))
	f.Add(encode(f, []string{"!fatal", "bye"}))
	f.Add(encode(f, []string{"!done", ".tag=1"}, []string{"!done", ".tag=1"}))
	f.Add(encode(f, []string{"!trap", "=category=0", ".tag=1"}, []string{"!trap", ".tag=1"}, []string{"!done", ".tag=9"}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d := newDemux([]string{"1", "2", "3"}, []string{"/a", "/b", "/c"})
		r := newSentenceReader(bytes.NewReader(raw))
		var streamErr error
		for d.left > 0 {
			s, err := r.ReadSentence()
			if err != nil {
				d.failPending(err)
				streamErr = err
				break
			}
			left := d.left
			if err := d.feed(s); err != nil {
				streamErr = err
				break
			}
			if d.left > left || d.left < 0 {
				t.Fatalf("left went from %d to %d", left, d.left)
			}
		}
		for i, done := range d.done {
			if streamErr == nil && !done {
				t.Errorf("command %d not complete after a clean finish", i)
			}
			if d.replies[i] == nil {
				t.Errorf("command %d has no reply", i)
			}
			if done && d.replies[i].Done == nil && d.errs[i] == nil && streamErr == nil {
				t.Errorf("command %d complete without !done or error", i)
			}
		}
	})
}

// latencyFake answers every print with rows after latency, like a router
// a few milliseconds away.
func latencyFake(b *testing.B, latency time.Duration) *Client {
	f := &fakeRouter{Latency: latency, Handle: func(words []string) [][]string {
		return [][]string{{"!re", "=.id=*1", "=name=" + words[0]}, {"!re", "=.id=*2", "=name=x"}, {"!done"}}
	}}
	c, err := Dial(context.Background(), Config{Addr: f.start(b), User: "admin"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

var inspectMenus = []string{
	"/system resource", "/system identity", "/system clock", "/ip address", "/ip route",
	"/ip service", "/interface", "/interface list member", "/interface wireguard",
	"/interface wireguard peers", "/ip firewall filter", "/ip firewall address-list",
}

// BenchmarkInspect compares 12 prints pipelined in one Batch with the
// same 12 as sequential Runs, over a fake with 2ms reply latency.
func BenchmarkInspect(b *testing.B) {
	const latency = 2 * time.Millisecond
	cmds := make([][]string, len(inspectMenus))
	for i, m := range inspectMenus {
		cmds[i] = []string{CommandPath(m, "print")}
	}
	b.Run(fmt.Sprintf("batch12/latency=%s", latency), func(b *testing.B) {
		c := latencyFake(b, latency)
		start := c.Stats()
		for b.Loop() {
			_, errs := c.Batch(context.Background(), cmds...)
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(c.Stats().RoundTrips-start.RoundTrips)/float64(b.N), "roundtrips/op")
	})
	b.Run(fmt.Sprintf("sequential12/latency=%s", latency), func(b *testing.B) {
		c := latencyFake(b, latency)
		start := c.Stats()
		for b.Loop() {
			for _, cmd := range cmds {
				if _, err := c.Run(context.Background(), cmd...); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(c.Stats().RoundTrips-start.RoundTrips)/float64(b.N), "roundtrips/op")
	})
}
