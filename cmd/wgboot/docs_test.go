package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/internal/simtest"
)

// The README says how to put wgboot on the PATH before its example session
// runs a bare `wgboot`, and `make install` does it.
func TestReadmeInstallsFirst(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	first := regexp.MustCompile(`(?m)^\s+\$ wgboot\b`).FindStringIndex(readme)
	if first == nil {
		t.Fatal("the README runs no bare wgboot")
	}
	install := strings.Index(readme, "make install")
	if install < 0 || install > first[0] || !strings.Contains(readme[:first[0]], "go install ./cmd/wgboot") || !strings.Contains(readme[:first[0]], "PATH") {
		t.Errorf("the README does not say how to put wgboot on the PATH (make install, go install ./cmd/wgboot) before its first `$ wgboot`")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make: the install target is not checked")
	}
	out, err := exec.Command("make", "-s", "-n", "-C", "../..", "install").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "install") || !strings.Contains(string(out), "./cmd/wgboot") {
		t.Errorf("make -n install: %v\n%s", err, out)
	}
}

// docs/rossim.md's first example wires rossim as its example file's
// "# wgboot-example:" line says, and the wgboot commands after it talk to
// the LAN side it sets up.
func TestRossimDocFirstExample(t *testing.T) {
	b, err := os.ReadFile("../../docs/rossim.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) < 2 {
		t.Fatalf("docs/rossim.md has %d sh blocks, want the rossim command and the wgboot commands", len(blocks))
	}
	run := strings.ReplaceAll(blocks[0][1], "\\\n", " ")
	cfg := regexp.MustCompile(`--config (\S+)`).FindStringSubmatch(run)
	if cfg == nil {
		t.Fatalf("the first example gives no --config:\n%s", run)
	}
	ex := simtest.LoadExample(t, "../../"+cfg[1])
	w := ex.Wiring
	listens := map[string]string{} // iface -> addr
	for _, m := range regexp.MustCompile(`--listen (\S+?)=([0-9.]+)`).FindAllStringSubmatch(run, -1) {
		listens[m[1]] = m[2]
	}
	for _, iface := range append(append([]string{}, w.WAN...), w.LAN) {
		if listens[iface] == "" {
			t.Errorf("the example's wiring names %s, but the first example has no --listen %s=...", iface, iface)
		}
	}
	for _, d := range w.Dynamic {
		if want := "--dynamic-address " + d.Iface + "=" + d.Prefix.String(); !strings.Contains(run, want) {
			t.Errorf("the first example lacks %s (the example's wiring)", want)
		}
	}
	cmds := blocks[1][1]
	for _, c := range []string{"plan", "apply"} {
		re := regexp.MustCompile(`(?m)^wgboot ` + c + `\s.*--router ` + regexp.QuoteMeta(listens[w.LAN]) + `\b`)
		if !re.MatchString(cmds) {
			t.Errorf("no `wgboot %s --router %s` (the LAN side) after the first example:\n%s", c, listens[w.LAN], cmds)
		}
	}
}
