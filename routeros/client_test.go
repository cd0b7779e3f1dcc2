package routeros

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDialLogin(t *testing.T) {
	tests := []struct {
		name           string
		user, password string
		wantAuth       bool
	}{
		{name: "ok", user: "wgboot", password: "s3cret"},
		{name: "wrong password", user: "wgboot", password: "nope", wantAuth: true},
		{name: "wrong user", user: "root", password: "s3cret", wantAuth: true},
		{name: "empty password refused", user: "wgboot", password: "", wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRouter{User: "wgboot", Password: "s3cret"}
			addr := f.start(t)
			var logged strings.Builder
			var logMu sync.Mutex
			c, err := Dial(context.Background(), Config{
				Addr: addr, User: tt.user, Password: tt.password,
				Logf: func(format string, args ...any) {
					logMu.Lock()
					defer logMu.Unlock()
					fmt.Fprintf(&logged, format+"\n", args...)
				},
			})
			if strings.Contains(logged.String(), tt.password) && tt.password != "" {
				t.Errorf("password appears in the log:\n%s", logged.String())
			}
			if !tt.wantAuth {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Close()
				want := Stats{TCPHandshakes: 1, RoundTrips: 1, Commands: 1}
				if diff := cmp.Diff(want, c.Stats()); diff != "" {
					t.Errorf("Stats (-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("Dial error = %v, want ErrAuth", err)
			}
			var de *DeviceError
			if !errors.As(err, &de) {
				t.Fatalf("Dial error %v does not wrap a *DeviceError", err)
			}
			wantDE := &DeviceError{Message: "invalid user name or password (6)", Category: -1, Command: "/login"}
			if diff := cmp.Diff(wantDE, de); diff != "" {
				t.Errorf("DeviceError (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.user)) {
				t.Errorf("error %q does not name the user %q", err, tt.user)
			}
		})
	}
}

func TestRun(t *testing.T) {
	handle := func(words []string) [][]string {
		switch words[0] {
		case "/ip/address/print":
			return [][]string{
				{"!re", "=.id=*1", "=address=192.168.88.1/24", "=interface=bridge", "=comment=a=b"},
				{"!re", "=.id=*2", "=address=10.77.0.1/24", "=interface=wg-wgboot", "=comment"},
				{"!done"},
			}
		case "/ip/firewall/filter/print":
			return [][]string{{"!empty"}, {"!done"}}
		case "/ip/firewall/filter/add":
			return [][]string{{"!trap", "=category=1", "=message=input does not match any value of protocol"}, {"!done"}}
		case "/ip/adress/print":
			return [][]string{
				{"!trap", "=category=0", "=message=no such command or directory (adress)"},
				{"!trap", "=message=no such command prefix"},
				{"!done"},
			}
		case "/interface/wireguard/add":
			return [][]string{{"!done", "=ret=*1F"}}
		case "/system/reboot":
			return [][]string{{"!fatal", "session terminated on request"}}
		case "/bad/word":
			return [][]string{{"!re", "garbage"}, {"!done"}}
		case "/bad/reply":
			return [][]string{{"!huh"}}
		}
		return [][]string{{"!trap", "=message=unknown parameter"}, {"!done"}}
	}
	tests := []struct {
		name       string
		words      []string
		want       *Reply
		wantErr    error // compared as *DeviceError, or errors.Is for sentinels
		wantBroken bool
	}{
		{
			name:  "rows",
			words: []string{"/ip/address/print"},
			want: &Reply{Re: []map[string]string{
				{".id": "*1", "address": "192.168.88.1/24", "interface": "bridge", "comment": "a=b"},
				{".id": "*2", "address": "10.77.0.1/24", "interface": "wg-wgboot", "comment": ""},
			}, Done: map[string]string{}},
		},
		{
			name:  "empty",
			words: []string{"/ip/firewall/filter/print"},
			want:  &Reply{Empty: true, Done: map[string]string{}},
		},
		{
			name:  "ret",
			words: []string{"/interface/wireguard/add", "=name=wg-wgboot"},
			want:  &Reply{Done: map[string]string{"ret": "*1F"}},
		},
		{
			name:    "trap category 1",
			words:   []string{"/ip/firewall/filter/add", "=protocol=input"},
			want:    &Reply{Done: map[string]string{}},
			wantErr: &DeviceError{Message: "input does not match any value of protocol", Category: 1, Command: "/ip/firewall/filter/add"},
		},
		{
			name:    "two traps",
			words:   []string{"/ip/adress/print"},
			want:    &Reply{Done: map[string]string{}},
			wantErr: &DeviceError{Message: "no such command or directory (adress); no such command prefix", Category: 0, Command: "/ip/adress/print"},
		},
		{
			name:    "trap without category",
			words:   []string{"/ip/address/add", "=bogus=1"},
			want:    &Reply{Done: map[string]string{}},
			wantErr: &DeviceError{Message: "unknown parameter", Category: -1, Command: "/ip/address/add"},
		},
		{
			name:       "fatal",
			words:      []string{"/system/reboot"},
			want:       &Reply{},
			wantErr:    &DeviceError{Message: "session terminated on request", Category: -1, Fatal: true},
			wantBroken: true,
		},
		{
			name:       "malformed word",
			words:      []string{"/bad/word"},
			wantErr:    errProtocol,
			wantBroken: true,
		},
		{
			name:       "unknown reply word",
			words:      []string{"/bad/reply"},
			wantErr:    errProtocol,
			wantBroken: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRouter{Handle: handle}
			c := dialFake(t, context.Background(), Config{Addr: f.start(t), User: "admin"})
			got, err := c.Run(context.Background(), tt.words...)
			var de *DeviceError
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case *DeviceError:
				if !errors.As(err, &de) {
					t.Fatalf("Run error = %v, want a *DeviceError", err)
				}
				if diff := cmp.Diff(want, de); diff != "" {
					t.Errorf("DeviceError (-want +got):\n%s", diff)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("Run error = %v, want %v", err, want)
				}
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Reply (-want +got):\n%s", diff)
				}
			}
			_, err = c.Run(context.Background(), "/system/identity/print")
			if broken := errors.Is(err, ErrBroken); broken != tt.wantBroken {
				t.Errorf("next Run error = %v, want broken %v", err, tt.wantBroken)
			}
		})
	}
}

func TestErrorHelpers(t *testing.T) {
	tests := []struct {
		err  error
		want []string // names of the helpers that must say yes
	}{
		{&DeviceError{Message: "no such item (4)", Category: 0}, []string{"NotFound"}},
		{&DeviceError{Message: "no such item (4)", Category: -1}, []string{"NotFound"}},
		{&DeviceError{Message: "not enough permissions (9)", Category: -1}, []string{"Permission"}},
		{&DeviceError{Message: "failure: already have such entry", Category: -1}, []string{"AlreadyExists"}},
		{&DeviceError{Message: "input does not match any value of interface", Category: 1}, []string{"InvalidArgument"}},
		{&DeviceError{Message: "unknown parameter", Category: -1}, []string{"InvalidArgument"}},
		{&DeviceError{Message: "interrupted", Category: 2}, []string{"Interrupted"}},
		{fmt.Errorf("wrapped: %w", &DeviceError{Message: "x", Fatal: true, Category: -1}), []string{"Fatal"}},
		{errors.New("no such item"), nil},
		{nil, nil},
	}
	helpers := []struct {
		name string
		fn   func(error) bool
	}{
		{"NotFound", IsNotFound}, {"Permission", IsPermission}, {"AlreadyExists", IsAlreadyExists},
		{"InvalidArgument", IsInvalidArgument}, {"Interrupted", IsInterrupted}, {"Fatal", IsFatal},
	}
	for _, tt := range tests {
		var got []string
		for _, h := range helpers {
			if h.fn(tt.err) {
				got = append(got, h.name)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("helpers for %v (-want +got):\n%s", tt.err, diff)
		}
	}
}

func TestBatch(t *testing.T) {
	rows := func(menu string, n int) [][]string {
		var out [][]string
		for i := range n {
			out = append(out, []string{"!re", fmt.Sprintf("=.id=*%X", i+1), "=menu=" + menu})
		}
		return append(out, []string{"!done"})
	}
	f := &fakeRouter{Gather: 5, Handle: func(words []string) [][]string {
		switch words[0] {
		case "/ip/firewall/filter/add":
			return [][]string{{"!trap", "=message=failure: already have such entry"}, {"!done"}}
		case "/ip/route/print":
			return [][]string{{"!empty"}, {"!done"}}
		}
		menu := strings.TrimSuffix(words[0], "/print")
		return rows(menu, len(menu)%4+1)
	}}
	c := dialFake(t, context.Background(), Config{Addr: f.start(t), User: "admin"})
	cmds := [][]string{
		[]string{CommandPath("/ip address", "print")},
		[]string{CommandPath("/interface wireguard peers", "print")},
		AddCmd("/ip firewall filter", Args{{"chain", "input"}}),
		[]string{CommandPath("/ip route", "print")},
		[]string{CommandPath("/ip firewall address-list", "print")},
	}
	replies, errs := c.Batch(context.Background(), cmds...)
	want := []*Reply{
		{Re: rowMaps("/ip/address", 4), Done: map[string]string{}},
		{Re: rowMaps("/interface/wireguard/peers", 3), Done: map[string]string{}},
		{Done: map[string]string{}},
		{Empty: true, Done: map[string]string{}},
		{Re: rowMaps("/ip/firewall/address-list", 2), Done: map[string]string{}},
	}
	if diff := cmp.Diff(want, replies, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}
	for i, err := range errs {
		if i == 2 {
			if !IsAlreadyExists(err) {
				t.Errorf("errs[2] = %v, want already exists", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("errs[%d] = %v", i, err)
		}
	}
	wantStats := Stats{TCPHandshakes: 1, RoundTrips: 2, Commands: 6}
	if diff := cmp.Diff(wantStats, c.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	// The session is still usable after a batch with a trap.
	if _, err := c.Run(context.Background(), "/system/identity/print"); err != nil {
		t.Errorf("Run after batch: %v", err)
	}
}

func rowMaps(menu string, n int) []map[string]string {
	var out []map[string]string
	for i := range n {
		out = append(out, map[string]string{".id": fmt.Sprintf("*%X", i+1), "menu": menu})
	}
	return out
}

func TestBatchInvalidCommands(t *testing.T) {
	f := &fakeRouter{}
	c := dialFake(t, context.Background(), Config{Addr: f.start(t), User: "admin"})
	_, errs := c.Batch(context.Background(),
		[]string{"/ip/address/print"},
		nil,
		[]string{"ip/address/print"},
		[]string{"/ip/address/print", ".tag=7"},
		[]string{"/ip/address/print", ""},
	)
	got := make([]bool, len(errs))
	for i, err := range errs {
		got[i] = err != nil
	}
	if diff := cmp.Diff([]bool{false, true, true, true, true}, got); diff != "" {
		t.Errorf("which commands failed (-want +got):\n%s", diff)
	}
	sent := f.commands()
	if len(sent) != 2 { // login and the one valid print
		t.Errorf("server received %d commands, want 2: %q", len(sent), sent)
	}
	if r, errs := c.Batch(context.Background()); r != nil || errs != nil {
		t.Errorf("empty Batch = %v, %v; want nil, nil", r, errs)
	}
}

func TestFatalFailsWholeBatch(t *testing.T) {
	f := &fakeRouter{Gather: 3, Handle: func(words []string) [][]string {
		if words[0] == "/system/reboot" {
			return [][]string{{"!fatal", "=message=rebooting"}}
		}
		return [][]string{{"!done"}}
	}}
	c := dialFake(t, context.Background(), Config{Addr: f.start(t), User: "admin"})
	// The fake answers in reverse: the !fatal comes first and the other
	// two never get their !done.
	_, errs := c.Batch(context.Background(),
		[]string{"/ip/address/print"}, []string{"/ip/route/print"}, []string{"/system/reboot"})
	for i, err := range errs {
		if !IsFatal(err) {
			t.Errorf("errs[%d] = %v, want the !fatal", i, err)
		}
	}
}

func TestTimeouts(t *testing.T) {
	t.Run("silent at login", func(t *testing.T) {
		f := &fakeRouter{Silent: true}
		_, err := Dial(context.Background(), Config{Addr: f.start(t), User: "admin", Timeout: 100 * time.Millisecond})
		if !errors.Is(err, ErrFiltered) {
			t.Fatalf("Dial error = %v, want ErrFiltered", err)
		}
	})
	t.Run("silent TLS handshake", func(t *testing.T) {
		f := &fakeRouter{Silent: true}
		_, err := Dial(context.Background(), Config{Addr: f.start(t), TLS: true,
			Fingerprint: strings.Repeat("ab", 32), Timeout: 100 * time.Millisecond})
		if !errors.Is(err, ErrFiltered) {
			t.Fatalf("Dial error = %v, want ErrFiltered", err)
		}
	})
	t.Run("ctx deadline at login", func(t *testing.T) {
		f := &fakeRouter{Silent: true}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := Dial(ctx, Config{Addr: f.start(t), User: "admin"})
		if !errors.Is(err, ErrFiltered) {
			t.Fatalf("Dial error = %v, want ErrFiltered", err)
		}
	})
	t.Run("no reply to a command", func(t *testing.T) {
		f := &fakeRouter{Handle: func(words []string) [][]string { return nil }}
		c := dialFake(t, context.Background(), Config{Addr: f.start(t), User: "admin", Timeout: 100 * time.Millisecond})
		_, err := c.Run(context.Background(), "/ip/address/print")
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("Run error = %v, want ErrTimeout", err)
		}
		_, err = c.Run(context.Background(), "/ip/address/print")
		if !errors.Is(err, ErrBroken) {
			t.Fatalf("second Run error = %v, want ErrBroken", err)
		}
	})
	t.Run("cancel while waiting", func(t *testing.T) {
		release := make(chan struct{})
		f := &fakeRouter{Handle: func(words []string) [][]string {
			close(release)
			return nil
		}}
		c := dialFake(t, context.Background(), Config{Addr: f.start(t), User: "admin"})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-release
			cancel()
		}()
		_, err := c.Run(ctx, "/ip/address/print")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run error = %v, want context.Canceled", err)
		}
		if _, err := c.Run(context.Background(), "/ip/address/print"); !errors.Is(err, ErrBroken) {
			t.Fatalf("Run after cancel = %v, want ErrBroken", err)
		}
	})
	t.Run("cancel after the reply", func(t *testing.T) {
		f := &fakeRouter{}
		c := dialFake(t, context.Background(), Config{Addr: f.start(t), User: "admin"})
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := c.Run(ctx, "/ip/address/print"); err != nil {
			t.Fatalf("Run: %v", err)
		}
		cancel()
		if _, err := c.Run(ctx, "/ip/address/print"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run with a cancelled ctx = %v, want context.Canceled", err)
		}
		if _, err := c.Run(context.Background(), "/ip/address/print"); err != nil {
			t.Fatalf("Run after a cancelled ctx that sent nothing: %v", err)
		}
	})
	t.Run("close while waiting", func(t *testing.T) {
		var cp atomic.Pointer[Client]
		f := &fakeRouter{Handle: func(words []string) [][]string {
			cp.Load().Close()
			return nil
		}}
		c := dialFake(t, context.Background(), Config{Addr: f.start(t), User: "admin"})
		cp.Store(c)
		if _, err := c.Run(context.Background(), "/ip/address/print"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Run error = %v, want ErrClosed", err)
		}
		if _, err := c.Run(context.Background(), "/ip/address/print"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Run after Close = %v, want ErrClosed", err)
		}
	})
}

func TestRefused(t *testing.T) {
	ln := listenLoopback(t)
	addr := ln.Addr().String()
	ln.Close()
	_, err := Dial(context.Background(), Config{Addr: addr, User: "admin"})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("Dial error = %v, want ErrRefused", err)
	}
	if _, err := Fingerprint(context.Background(), addr, nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("Fingerprint error = %v, want ErrRefused", err)
	}
}

func TestDialThroughDialFunc(t *testing.T) {
	f := &fakeRouter{}
	addr := f.start(t)
	var dialled []string
	dial := func(ctx context.Context, network, a string) (net.Conn, error) {
		dialled = append(dialled, network+" "+a)
		return new(net.Dialer).DialContext(ctx, network, a)
	}
	c := dialFake(t, context.Background(), Config{Addr: addr, User: "admin", Dial: dial})
	if _, err := c.Run(context.Background(), "/system/identity/print"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"tcp " + addr}, dialled); diff != "" {
		t.Errorf("dials (-want +got):\n%s", diff)
	}
}

func TestConcurrentRuns(t *testing.T) {
	f := &fakeRouter{Handle: func(words []string) [][]string {
		return [][]string{{"!re", "=echo=" + words[1]}, {"!done"}}
	}}
	c := dialFake(t, context.Background(), Config{Addr: f.start(t), User: "admin"})
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() {
			want := fmt.Sprint(i)
			r, err := c.Run(context.Background(), "/x/print", "=n="+want)
			if err == nil && (len(r.Re) != 1 || r.Re[0]["echo"] != "=n="+want) {
				err = fmt.Errorf("got reply %v for %s", r.Re, want)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}
