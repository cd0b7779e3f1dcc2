package main

import (
	"bytes"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/wgboot/wgboot/fleet"
	"github.com/wgboot/wgboot/onboard"
)

// cursorCodes are the table's own escapes: erase line, cursor up.
var cursorCodes = regexp.MustCompile(`\x1b\[(2K|\d+A)`)

// The live table fits the terminal: no line wider than it (a wider one
// wraps, and the redraw then overwrites the wrong lines), at 80 columns
// and narrower, with long names, wide characters and long messages.
func TestFleetTableFitsWidth(t *testing.T) {
	inv := &fleet.Inventory{Pool: netip.MustParsePrefix("10.77.0.0/16"), SubnetBits: 24, Routers: []fleet.Router{
		{Address: "192.0.2.1:8729", Name: "shop-1"},
		{Address: "very-long-host-name-of-a-customer-router.region.example.net:18729", Name: "a-rather-long-label-for-this-one"},
		{Address: "[2001:db8:1234:5678:9abc:def0:1234:5678]:8729"},
	}}
	events := []fleet.Event{
		{Index: 0, Router: "192.0.2.1:8729", Identity: "MikroTik", Subnet: "10.77.0.0/24", Step: onboard.StepApply, Kind: onboard.KindProgress, Message: "WireGuard interface wgboot on UDP 13231"},
		{Index: 1, Router: "x", Identity: "会社のルーター本社ビル三階", Subnet: "10.77.255.0/24", Step: onboard.StepReverify, Kind: onboard.KindFailed, Final: true,
			Message: "onboard: connect to very-long-host-name-of-a-customer-router.region.example.net:18729: routeros: connection refused by it: nothing listens there; check the address and port"},
		{Index: 2, Router: "y", Identity: strings.Repeat("R", 60), Step: onboard.StepCommit, Kind: onboard.KindDone, Final: true, Message: "onboarded"},
	}
	for _, width := range []int{200, 120, 80, 60, 40, 20} {
		var b bytes.Buffer
		v := newFleetView(&b, inv, false, true)
		v.width = func() int { return width }
		for _, ev := range events {
			v.event(ev)
		}
		v.stop()
		for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			l = cursorCodes.ReplaceAllString(l, "")
			if w := ansi.StringWidth(l); w >= width {
				t.Errorf("width %d: a line of %d columns: %q", width, w, l)
			}
			if strings.ContainsRune(l, 0x1b) {
				t.Errorf("width %d: stray escape in %q", width, l)
			}
		}
		if width >= 80 {
			for _, w := range []string{"ROUTER", "shop-1", "10.77.0.0/24", "MikroTik", "failed"} {
				if !strings.Contains(b.String(), w) {
					t.Errorf("width %d: the table does not show %q:\n%s", width, w, b.String())
				}
			}
		}
	}
}

// Not a terminal: plain lines, no cursor movement.
func TestFleetPlainLines(t *testing.T) {
	inv := &fleet.Inventory{Routers: []fleet.Router{{Address: "192.0.2.1:8729"}}}
	var b bytes.Buffer
	v := newFleetView(&b, inv, false, false)
	v.event(fleet.Event{Index: 0, Router: "192.0.2.1:8729", Step: onboard.StepConnect, Kind: onboard.KindDone, Message: "logged in"})
	v.stop()
	if strings.ContainsRune(b.String(), 0x1b) || !strings.Contains(b.String(), "logged in") {
		t.Errorf("plain output %q", b.String())
	}
}
