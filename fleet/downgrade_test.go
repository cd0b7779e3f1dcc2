package fleet

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/forgedtls"
	"github.com/wgboot/wgboot/routeros"
)

// A fleet run never answers a forged TLS alert by sending the password in
// clear: not for a router with tofu: true, nor one pinned by known_hosts
// or by fingerprint:. Each router fails and says why.
func TestRunForgedAlert(t *testing.T) {
	const fp = "3f5a000000000000000000000000000000000000000000000000000000000001"
	fakes := []*forgedtls.Router{forgedtls.Start(t), forgedtls.Start(t), forgedtls.Start(t), forgedtls.Start(t)}
	state := t.TempDir()
	if err := os.WriteFile(filepath.Join(state, routeros.KnownHostsFile), []byte(fakes[1].SSL+" "+fp+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	router := func(f *forgedtls.Router) Router {
		return Router{Address: f.SSL, User: "admin", PasswordEnv: "WGBOOT_PASSWORD", ConfirmTimeout: 5 * time.Minute, Local: "netstack"}
	}
	tofu, known, pinned, known2 := router(fakes[0]), router(fakes[1]), router(fakes[2]), router(fakes[3])
	tofu.TOFU, known.TOFU, pinned.Fingerprint = true, true, fp
	inv := &Inventory{Pool: netip.MustParsePrefix("10.77.0.0/16"), SubnetBits: 24, Routers: []Router{tofu, known, pinned, known2}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, inv, testOptions(t, state))
	if err == nil {
		t.Fatal("Run succeeded against forged alerts")
	}
	wants := []string{"no certificate", "pinned to " + fp + " (recorded in", "pinned to " + fp + " (--fingerprint)", "no certificate"}
	for i, f := range fakes {
		if got := f.Passwords(); len(got) > 0 {
			t.Errorf("router %d: passwords on the plain API: %q", i, got)
		}
		if f.Alerts() == 0 {
			t.Errorf("router %d: api-ssl was never tried", i)
		}
		if res[i].Err == nil || !strings.Contains(res[i].Err.Error(), wants[i]) {
			t.Errorf("router %d: %v, want an error saying %q", i, res[i].Err, wants[i])
		}
	}
}
