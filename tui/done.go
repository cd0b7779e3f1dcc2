package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/skip2/go-qrcode"

	"github.com/wgboot/wgboot/onboard"
)

// doneScreen is the summary: where the config is, the QR code of the
// technician's config (its own tab: it rarely fits beside the text), how to
// reconnect and how to undo.
type doneScreen struct {
	m        *Model
	sum      *onboard.Summary
	hardened bool // the API was closed on the WAN
	declined bool // declined at the Gate: everything was rolled back
	manage   bool // the router was onboarded before: devices only
	undone   []string
	qr       string // the engine's QR, or one made from the config file
	qrErr    error
	showQR   bool
	vp       viewport.Model
	w, h     int

	// "Add a device": a name, then the new peer's QR code. adder is the
	// engine when it can add peers (nil: the offer is not made).
	adder   PeerAdder
	adding  bool   // the name field has the keys
	name    string // the name being typed
	busy    bool   // the engine is adding it
	devErr  error
	devices []*onboard.NewPeer
	qrFor   string // whose QR code the QR tab shows ("" the technician's)
}

// PeerAdder is an engine that adds team peers (*onboard.Engine is one).
type PeerAdder interface {
	AddPeer(ctx context.Context, name string, psk bool) (*onboard.NewPeer, error)
}

// peerAddedMsg is the result of adding a device.
type peerAddedMsg struct {
	np  *onboard.NewPeer
	err error
}

func newDoneScreen(m *Model) *doneScreen {
	return &doneScreen{m: m, vp: viewport.New(80, 18), w: 80, h: 20}
}

func (d *doneScreen) set(s *onboard.Summary, hardened bool) tea.Cmd {
	d.sum, d.hardened, d.qr = s, hardened, s.QR
	d.layout()
	if d.qr != "" || s.ConfigPath == "" {
		return nil
	}
	return qrCmd(s.ConfigPath)
}

// declinedNote is printed after the wizard ends when the Gate was declined.
const declinedNote = "You declined to close the API on the WAN: every change was rolled back, the router is as it was."

// setDeclined turns the screen into the end of a declined Gate: nothing
// is left on the router, so there is no config and no QR code.
func (d *doneScreen) setDeclined(info *onboard.FailureInfo) tea.Cmd {
	d.declined, d.sum, d.showQR = true, &onboard.Summary{}, false
	if info != nil {
		d.undone = info.Undone
	}
	d.layout()
	return nil
}

// setManage turns the screen into device management for a router that
// was onboarded before: there is no new summary, config or QR code.
func (d *doneScreen) setManage() tea.Cmd {
	d.manage, d.sum, d.showQR = true, &onboard.Summary{}, false
	d.layout()
	return nil
}

// qrMsg carries the QR code made from the technician's config file.
type qrMsg struct {
	qr  string
	err error
}

// qrCmd renders the config file as a QR code the WireGuard phone apps
// read. The file holds the private key: it only goes into the QR.
func qrCmd(path string) tea.Cmd {
	return func() tea.Msg {
		b, err := os.ReadFile(path)
		if err != nil {
			return qrMsg{err: fmt.Errorf("tui: read the config for its QR code: %w", err)}
		}
		q, err := qrcode.New(string(b), qrcode.Low)
		if err != nil {
			return qrMsg{err: fmt.Errorf("tui: QR code: %w", err)}
		}
		return qrMsg{qr: q.ToSmallString(false)}
	}
}

func (d *doneScreen) setQR(msg qrMsg) {
	d.qr, d.qrErr = msg.qr, msg.err
	d.layout()
}

func (d *doneScreen) setSize(w, h int) tea.Cmd {
	d.w, d.h = w, h
	d.layout()
	return nil
}

func (d *doneScreen) layout() {
	d.vp.Width, d.vp.Height = d.w, max(3, d.h-2)
	if d.sum == nil {
		return
	}
	if d.showQR {
		qr := d.qr
		switch {
		case d.qrErr != nil:
			qr = d.qrErr.Error()
		case qr == "" && d.sum.ConfigPath != "":
			qr = "Making the QR code…"
		case qr == "":
			qr = "No QR code: no config file was written (no state dir)."
		}
		head := d.m.st.Muted.Render(qrHint(qr, d.vp.Width, d.vp.Height))
		if d.qrFor != "" {
			head = d.m.st.Title.Render("Device "+d.qrFor+": its own key and config") + "\n" + head
		}
		d.vp.SetContent(head + "\n" + qr)
	} else {
		// Wrapped, not clipped: the reconnect and undo commands must be
		// whole on screen (they are printed again when the wizard ends).
		d.vp.SetContent(clipRows(wrapWords(d.summaryText(), d.w), d.w))
	}
	d.vp.GotoTop()
}

// qrHint is the text above the QR code: a phone camera needs the whole
// code on screen, so when it does not fit in w×h (with the two hint lines)
// the technician learns that it scrolls and how big the terminal must be.
func qrHint(qr string, w, h int) string {
	lines := strings.Split(strings.TrimRight(qr, "\n"), "\n")
	qw := 0
	for _, l := range lines {
		qw = max(qw, lipgloss.Width(l))
	}
	const head = "Scan with the WireGuard app."
	switch {
	case len(lines)+2 > h && qw > w:
		return head + fmt.Sprintf("\nThe code needs %d×%d, the terminal has %d×%d: enlarge it (↑/↓ scroll).", qw, len(lines)+2, w, h)
	case len(lines)+2 > h:
		return head + fmt.Sprintf("\nTaller than the terminal (%d of %d lines): ↑/↓ scroll, or enlarge it.", max(0, h-2), len(lines))
	case qw > w:
		return head + fmt.Sprintf("\nThe code is %d columns wide, the terminal %d: widen it.", qw, w)
	}
	return head + "\nThe whole code is on screen."
}

func (d *doneScreen) summaryText() string {
	st := d.m.st
	s := d.sum
	if d.declined {
		var b strings.Builder
		b.WriteString(st.OK.Render(st.IconOK+" "+declinedNote) + "\n\n")
		if len(d.undone) > 0 {
			b.WriteString(st.Title.Render("What was undone") + "\n")
			for _, u := range d.undone {
				b.WriteString(" " + st.OK.Render(st.IconOK) + " " + u + "\n")
			}
			b.WriteString("\n")
		}
		b.WriteString(st.Muted.Render("No WireGuard config was kept. Run wgboot again to onboard this router.") + "\n")
		return b.String()
	}
	if d.manage {
		return st.OK.Render(wrapWords(st.IconOK+" This router is already onboarded by wgboot: nothing to change. Add devices for the team here.", d.w)) + "\n" + d.deviceText()
	}
	kv := func(k, v string) string {
		if v == "" {
			return ""
		}
		if 12+lipgloss.Width(v) > d.w {
			// A long path on a line of its own, whole, to copy.
			return st.Label.Render(k) + "\n" + wrapWords(v, d.w) + "\n"
		}
		return st.Label.Render(pad(k, 12)) + wrapWords(v, d.w-12) + "\n"
	}
	var b strings.Builder
	who := s.Identity
	if who == "" {
		who = "The router"
	}
	if d.hardened {
		b.WriteString(st.OK.Render(wrapWords(st.IconOK+" "+who+" is reachable through WireGuard; its API is closed on the WAN.", d.w)) + "\n\n")
	} else {
		b.WriteString(st.OK.Render(wrapWords(st.IconOK+" "+who+" is reachable through WireGuard.", d.w)) + "\n" +
			st.Warn.Render(wrapWords(st.IconWarn+" The API on the WAN was left as it was (you declined to close it).", d.w)) + "\n\n")
	}
	if note := s.OutsideNote(); note != "" {
		b.WriteString(st.Warn.Render(wrapWords(st.IconWarn+" "+note, d.w)) + "\n\n")
	}
	b.WriteString(kv("Router", s.Router))
	b.WriteString(kv("Tunnel", s.RouterTunnel+" (router) · "+s.LocalTunnel+" (you)"))
	b.WriteString(kv("Endpoint", s.Endpoint))
	if s.ProvenVia == "outside" {
		b.WriteString(kv("Proven via", "outside, by a phone at "+s.ProvenFrom))
	} else {
		b.WriteString(kv("Proven via", s.ProvenVia))
	}
	b.WriteString(kv("Changes", strconv.Itoa(s.Changes)))
	b.WriteString(kv("Config", s.ConfigPath))
	// Commands wrap the way a shell continues a line (a trailing
	// backslash), so what is on screen pastes as one command.
	cmd := func(c string) string { return "  " + strings.ReplaceAll(wrapCommand(c, d.w-2), "\n", "\n  ") }
	b.WriteString("\n" + st.Title.Render("Reconnect next time:") + "\n" + cmd(s.Reconnect) + "\n")
	b.WriteString(st.Title.Render("Undo everything:") + "\n" + cmd(s.Undo) + "\n")
	b.WriteString(d.deviceText())
	return b.String()
}

func (d *doneScreen) update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	keys := d.m.keys
	if d.adding {
		return d.typeName(k)
	}
	switch {
	case key.Matches(k, keys.Add) && d.adder != nil && !d.declined && !d.busy:
		d.adding, d.name, d.devErr = true, "", nil
		d.showQR = false
		d.layout()
		return nil
	case key.Matches(k, keys.Next, keys.Prev) && !d.declined:
		d.showQR = !d.showQR
		d.layout()
		return nil
	}
	var cmd tea.Cmd
	d.vp, cmd = d.vp.Update(k)
	return cmd
}

// typing: the device name field has the keys.
func (d *doneScreen) typing() bool { return d.adding }

func (d *doneScreen) shortHelp() []key.Binding {
	k := d.m.keys
	if d.declined {
		return []key.Binding{k.Up, k.Help, k.Quit}
	}
	return []key.Binding{as(k.Next, "summary/QR code"), k.Up, k.Help, k.Quit}
}

// typeName edits the device name: enter adds it, esc gives up.
func (d *doneScreen) typeName(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEsc:
		d.adding = false
	case tea.KeyEnter:
		if err := onboard.ValidatePeerName(d.name); err != nil {
			d.devErr = errors.New(strings.TrimPrefix(err.Error(), "onboard: "))
			break
		}
		d.adding, d.busy, d.devErr = false, true, nil
		d.layout()
		adder, name := d.adder, d.name
		return d.m.op(func(ctx context.Context) tea.Msg {
			np, err := adder.AddPeer(ctx, name, false)
			return peerAddedMsg{np: np, err: err}
		})
	case tea.KeyBackspace:
		if r := []rune(d.name); len(r) > 0 {
			d.name = string(r[:len(r)-1])
		}
	case tea.KeyRunes:
		if len(d.name) < 32 {
			d.name += string(k.Runes)
		}
	}
	d.layout()
	return nil
}

// setPeer shows the added device's QR code, or why it was not added.
func (d *doneScreen) setPeer(msg peerAddedMsg) {
	d.busy = false
	if msg.err != nil {
		d.devErr = errors.New(strings.TrimPrefix(msg.err.Error(), "onboard: "))
		d.layout()
		return
	}
	d.devices = append(d.devices, msg.np)
	text, err := msg.np.Config.Marshal()
	if err == nil {
		var q *qrcode.QRCode
		if q, err = qrcode.New(string(text), qrcode.Low); err == nil {
			d.qr, d.qrErr, d.qrFor = q.ToSmallString(false), nil, msg.np.Name
		}
	}
	if err != nil {
		d.qrErr = fmt.Errorf("tui: QR code: %w", err)
	}
	d.showQR = true
	d.layout()
}

// deviceText is the "add a device" part of the summary.
func (d *doneScreen) deviceText() string {
	if d.adder == nil {
		return ""
	}
	st := d.m.st
	var b strings.Builder
	b.WriteString("\n" + st.Title.Render("Devices:") + "\n")
	for _, np := range d.devices {
		line := "  " + np.Name + " " + np.Address
		if np.ConfigPath != "" {
			line += " · " + np.ConfigPath
		}
		b.WriteString(line + "\n")
	}
	switch {
	case d.adding:
		b.WriteString("  Name of the device: " + d.name + "█\n" + st.Muted.Render("  enter: add it and show its QR code · esc: cancel") + "\n")
	case d.busy:
		b.WriteString("  Adding " + d.name + "…\n")
	default:
		b.WriteString(st.Muted.Render("  Press a to add a device for someone else (a name, then a QR code for the WireGuard app).") + "\n")
	}
	if d.devErr != nil {
		b.WriteString(st.Warn.Render("  "+d.devErr.Error()) + "\n")
	}
	return b.String()
}

func (d *doneScreen) view(w, h int) string {
	st := d.m.st
	tabs := st.TabOn.Render("Summary") + st.Muted.Render(" │ ") + st.Tab.Render("QR code")
	if d.declined {
		return st.TabOn.Render("Rolled back") + "\n\n" + d.vp.View()
	}
	if d.manage && !d.showQR {
		tabs = st.TabOn.Render("Devices") + st.Muted.Render(" │ ") + st.Tab.Render("QR code")
	}
	if d.showQR {
		tabs = st.Tab.Render("Summary") + st.Muted.Render(" │ ") + st.TabOn.Render("QR code")
	}
	return tabs + "\n\n" + d.vp.View()
}
