package onboard

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// recordSession keeps every word the router sends back, so a test can
// prove a secret never reached wgboot's memory.
type recordSession struct {
	session
	mu      sync.Mutex
	replies []string
	// full drops =.proplist= words: the session reads whole rows, as
	// wgboot did before it asked only for the properties it uses.
	full bool
}

func (s *recordSession) note(rep *routeros.Reply) {
	if rep == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range append(slices.Clone(rep.Re), rep.Done) {
		for k, v := range m {
			s.replies = append(s.replies, k+"="+v)
		}
	}
}

func (s *recordSession) strip(words []string) []string {
	if !s.full {
		return words
	}
	return slices.DeleteFunc(slices.Clone(words), func(w string) bool { return strings.HasPrefix(w, "=.proplist=") })
}

func (s *recordSession) Run(ctx context.Context, words ...string) (*routeros.Reply, error) {
	rep, err := s.session.Run(ctx, s.strip(words)...)
	s.note(rep)
	return rep, err
}

func (s *recordSession) Batch(ctx context.Context, cmds ...[]string) ([]*routeros.Reply, []error) {
	in := make([][]string, len(cmds))
	for i, c := range cmds {
		in[i] = s.strip(c)
	}
	reps, errs := s.session.Batch(ctx, in...)
	for _, r := range reps {
		s.note(r)
	}
	return reps, errs
}

// TestInspectReadsNoSecrets: a router holding other tunnels' keys, a PPPoE
// password, scripts and schedulers with credentials in them. Inspect,
// plan and status read none of those values (each print names the
// properties wgboot uses), and the plan is the one whole rows would give.
func TestInspectReadsNoSecrets(t *testing.T) {
	wgKey, _ := wgtypes.GeneratePrivateKey()
	peerKey, _ := wgtypes.GeneratePrivateKey()
	peerPriv, _ := wgtypes.GeneratePrivateKey()
	psk, _ := wgtypes.GenerateKey()
	secrets := []string{wgKey.String(), psk.String(), peerPriv.String(), "pppoe-Pa55word", "script-s3cret-token", "sched-s3cret-token"}
	ex := simtest.Named(t, "soho-defconf")
	ex.Config += strings.Join([]string{"",
		"/interface wireguard",
		`add name=wg-other listen-port=51820 private-key="` + wgKey.String() + `" comment=other`,
		"/interface wireguard peers",
		`add interface=wg-other public-key="` + peerKey.PublicKey().String() + `" private-key="` + peerPriv.String() + `" preshared-key="` + psk.String() + `" allowed-address=10.99.0.2/32 comment=office`,
		"/interface pppoe-client",
		"add name=pppoe-spare interface=ether5 user=customer@isp.example password=pppoe-Pa55word disabled=yes",
		"/system script",
		`add name=push source=":global token \"script-s3cret-token\""`,
		"/system scheduler",
		`add name=nightly interval=1d on-event=":global token \"sched-s3cret-token\""`,
		""}, "\n")
	s := startExample(t, ex, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key, _ := wgtypes.GeneratePrivateKey()
	plan := func(full bool) (*Plan, *recordSession) {
		o := simOptions(t, s, s.LAN, nil)
		o.NewKey = func() (wgtypes.Key, error) { return key, nil }
		e := simtest.Connect(t, ctx, New, o)
		t.Cleanup(func() { e.Close() })
		rec := &recordSession{session: e.cl, full: full}
		e.cl = rec
		p, err := e.Plan(ctx, o.Settings)
		if err != nil {
			t.Fatalf("plan: %v", err)
		}
		if _, err := e.Status(ctx); err != nil {
			t.Fatalf("status: %v", err)
		}
		return p, rec
	}
	whole, wholeRec := plan(true)
	// The router does hand these values out: the test would see them.
	for _, sec := range secrets {
		if !slices.ContainsFunc(wholeRec.replies, func(w string) bool { return strings.Contains(w, sec) }) {
			t.Fatalf("the router does not print %q on a whole read: the test proves nothing", sec)
		}
	}
	got, rec := plan(false)
	for _, w := range rec.replies {
		for _, sec := range secrets {
			if strings.Contains(w, sec) {
				t.Errorf("a secret reached wgboot during inspect: %q", w)
			}
		}
	}
	if diff := cmp.Diff(whole, got); diff != "" {
		t.Errorf("plan from the properties wgboot reads differs from the plan from whole rows (-whole +got):\n%s", diff)
	}
}
