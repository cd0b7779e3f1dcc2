package onboard

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// routerFiles lists the router's files and their contents, read on a
// session of the test's own.
func routerFiles(t *testing.T, ctx context.Context, s *simtest.Router, o Options) map[string]string {
	t.Helper()
	cl, err := s.Dial(ctx, s.LAN, o.Plain, 5*time.Second)
	if err != nil {
		t.Fatalf("list the router's files: %v", err)
	}
	defer cl.Close()
	rep, err := cl.Run(ctx, "/file/print")
	if err != nil {
		t.Fatalf("list the router's files: %v", err)
	}
	out := map[string]string{}
	for _, m := range rep.Re {
		out[m["name"]] = m["contents"]
	}
	return out
}

// wgbootFiles are the names of files a wgboot run left.
func wgbootFiles(files map[string]string) []string {
	var out []string
	for n := range files {
		if strings.HasPrefix(n, "wgboot-") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// The arm step leaves no backup (it would hold every secret of the router)
// and an export that holds none; the plan names it, and it is gone after a
// commit, a declined harden (rollback) and an explicit rollback (finding 23).
func TestArmFiles(t *testing.T) {
	wgKey, _ := wgtypes.GeneratePrivateKey()
	ex := simtest.Named(t, "soho-defconf")
	ex.Config += "\n/interface wireguard\nadd name=wg-other listen-port=51820 private-key=\"" + wgKey.String() + "\"\n"
	tests := []struct {
		name   string
		harden func() (bool, error)
		// rollback: stop after arming and run wgboot rollback.
		rollback bool
	}{
		{name: "commit", harden: func() (bool, error) { return true, nil }},
		{name: "declined", harden: func() (bool, error) { return false, ErrDeclined }},
		{name: "rollback while armed", rollback: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var s *simtest.Router
			var armed map[string]string
			s, e, p, o := connected(t, ctx, ex, nil, func(o *Options) {
				o.Prompter = funcPrompter(func(ctx context.Context, q Question) (bool, error) {
					if q.ID != "harden" {
						return true, nil
					}
					armed = routerFiles(t, ctx, s, *o)
					return tt.harden()
				})
			})
			want := []string{"wgboot-e2e.rsc"}
			if diff := cmp.Diff(want, p.Files); diff != "" {
				t.Errorf("plan files (-want +got):\n%s", diff)
			}
			if tt.rollback {
				a := &applyRun{ids: map[string]string{}, started: e.now(), j: &Journal{Router: e.addr, Identity: e.router.Identity, RunID: e.run, State: StateArmed}}
				if err := e.arm(ctx, a, p); err != nil {
					t.Fatal(err)
				}
				armed = routerFiles(t, ctx, s, o)
				if err := e.Rollback(ctx); err != nil {
					t.Fatalf("rollback: %v", err)
				}
			} else {
				_, err := e.Apply(ctx, p)
				if wantErr := tt.name == "declined"; (err != nil) != wantErr || wantErr && !errors.Is(err, ErrDeclined) {
					t.Fatalf("apply: %v", err)
				}
			}
			// Whatever the router wrote in the background has landed.
			time.Sleep(300 * time.Millisecond)
			if diff := cmp.Diff(want, wgbootFiles(armed)); diff != "" {
				t.Errorf("files while armed (-want +got):\n%s", diff)
			}
			for n, c := range armed {
				if strings.Contains(c, wgKey.String()) {
					t.Errorf("%s on the router holds another tunnel's private key", n)
				}
			}
			if got := wgbootFiles(routerFiles(t, ctx, s, o)); len(got) != 0 {
				t.Errorf("files left on the router: %v", got)
			}
		})
	}
}

// Status lists the files older runs left on the router, and only those.
func TestStatusLeftoverFiles(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, e, _, o := connected(t, ctx, ex, nil, nil)
	for _, cmd := range [][]string{
		{"/system/backup/save", "=name=wgboot-0ld000", "=dont-encrypt=yes"},
		{"/export", "=file=wgboot-0ld000"},
		{"/export", "=file=wgboot-notes"},
		{"/export", "=file=my-wgboot-0ld000"},
		{"/export", "=file=flash/wgboot-0ld111"},
	} {
		if _, err := e.cl.Run(ctx, cmd...); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	waitForFile := func() bool { _, ok := routerFiles(t, ctx, s, o)["wgboot-0ld000.backup"]; return ok }
	for i := 0; !waitForFile(); i++ {
		if i > 100 {
			t.Fatal("the backup was never written")
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, err := e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"flash/wgboot-0ld111.rsc", "wgboot-0ld000.backup", "wgboot-0ld000.rsc", "wgboot-notes.rsc"}
	got := slices.Clone(st.LeftoverFiles)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("leftover files (-want +got):\n%s", diff)
	}
}

// Rolling back a committed run removes the files an older wgboot left for
// it (the unencrypted backup and the export stayed after its commit).
func TestRollbackRemovesOldRunFiles(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, e, p, o := connected(t, ctx, ex, nil, nil)
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	cl, err := s.Dial(ctx, s.LAN, o.Plain, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, cmd := range [][]string{{"/system/backup/save", "=name=wgboot-e2e", "=dont-encrypt=yes"}, {"/export", "=file=wgboot-e2e"}} {
		if _, err := cl.Run(ctx, cmd...); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; len(wgbootFiles(routerFiles(t, ctx, s, o))) < 2; i++ {
		if i > 100 {
			t.Fatal("the old run's files were never written")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := e.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := wgbootFiles(routerFiles(t, ctx, s, o)); len(got) != 0 {
		t.Errorf("files left on the router after rollback: %v", got)
	}
}
