package tui

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/wgboot/wgboot/onboard"
)

// API modes on the Connect screen.
const (
	modeSSL   = "api-ssl"
	modePlain = "plain"
)

// connectValues are the Connect form's fields. The form binds pointers to
// them, so they live on the heap for the form's lifetime.
type connectValues struct {
	Host, Port, User, Password, Mode string
	Recent                           string // index into recent, or "" for a new router
}

func (v *connectValues) plain() bool { return v.Mode == modePlain }

func (v *connectValues) port() int {
	if p, err := strconv.Atoi(strings.TrimSpace(v.Port)); err == nil && p > 0 {
		return p
	}
	if v.plain() {
		return 8728
	}
	return 8729
}

func (v *connectValues) addr() string {
	return net.JoinHostPort(strings.TrimSpace(v.Host), strconv.Itoa(v.port()))
}

// submitConnectMsg is sent by the Connect form when it is submitted.
type submitConnectMsg struct{}

// connectScreen asks where the router is. With recent routers remembered, a
// first form offers them; choosing one prefills the second.
type connectScreen struct {
	m      *Model
	recent []Recent
	v      *connectValues
	form   *huh.Form
	banner string // Options.Banner wrapped to the width
	// picking: the list of recent routers is shown first; cursor is the
	// highlighted entry (len(recent) is "Another router").
	picking bool
	cursor  int
	w, h    int
}

func newConnectScreen(m *Model, recent []Recent) *connectScreen {
	c := &connectScreen{m: m, recent: recent, w: 80, h: 20}
	c.reset()
	c.wrapBanner()
	return c
}

func (c *connectScreen) reset() {
	o := c.m.o
	mode := modeSSL
	if o.Plain {
		mode = modePlain
	}
	port := ""
	if o.Port != 0 {
		port = strconv.Itoa(o.Port)
	}
	user := o.User
	if user == "" {
		user = "admin"
	}
	c.v = &connectValues{Host: o.Router, Port: port, User: user, Password: o.Password, Mode: mode}
	c.picking, c.cursor = len(c.recent) > 0 && o.Router == "", 0
	c.form = c.buildForm()
}

func (c *connectScreen) newForm(groups ...*huh.Group) *huh.Form {
	f := huh.NewForm(groups...).WithShowHelp(false).WithWidth(min(c.w, 76))
	if c.m.o.Accessible {
		f = f.WithTheme(huh.ThemeBase())
	}
	return f
}

func (c *connectScreen) buildForm() *huh.Form {
	v := c.v
	f := c.newForm(huh.NewGroup(
		huh.NewInput().Title("Router").Description("Address or host name of the MikroTik router.").
			Value(&v.Host).Validate(validateHost),
		huh.NewInput().Title("Port").Placeholder("8729 (api-ssl) or 8728 (plain)").
			Value(&v.Port).Validate(validatePort),
		huh.NewInput().Title("User").Value(&v.User).Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("enter the RouterOS user name")
			}
			return nil
		}),
		huh.NewInput().Key(passwordKey).Title("Password").EchoMode(huh.EchoModePassword).Value(&v.Password),
		huh.NewSelect[string]().Title("API").Options(
			huh.NewOption("api-ssl (8729, certificate pinned)", modeSSL),
			huh.NewOption("plain api (8728)", modePlain),
		).Value(&v.Mode).Description("Warning: plain API sends the password unencrypted."),
	))
	f.SubmitCmd = func() tea.Msg { return submitConnectMsg{} }
	return f
}

func validateHost(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("enter the router's address")
	}
	if strings.ContainsAny(s, " /") {
		return fmt.Errorf("%q is not a host name or address", s)
	}
	// The engine's own check: no over-long or non-ASCII names.
	return formError(onboard.ValidateRouter(s))
}

func validatePort(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return errors.New("a port is a number from 1 to 65535")
	}
	return nil
}

func (c *connectScreen) init() tea.Cmd { return c.form.Init() }

// restart shows a fresh form with the last values (after esc from Inspect
// or a failed connect).
func (c *connectScreen) restart() tea.Cmd {
	v := *c.v
	c.picking = false
	c.v = &v
	c.form = c.buildForm()
	return tea.Batch(c.form.Init(), c.setSize(c.w, c.h))
}

// passwordKey names the password field of the Connect form.
const passwordKey = "password"

// onPassword reports whether the password field has the keys.
func (c *connectScreen) onPassword() bool {
	if !c.typing() {
		return false
	}
	f := c.form.GetFocusedField()
	return f != nil && f.GetKey() == passwordKey
}

func (c *connectScreen) typing() bool { return !c.picking && c.m.status == "" }

func (c *connectScreen) values() *connectValues { return c.v }

func (c *connectScreen) recentEntry() Recent {
	return Recent{Host: strings.TrimSpace(c.v.Host), Port: c.v.port(), User: c.v.User, Plain: c.v.plain()}
}

func (c *connectScreen) wrapBanner() {
	c.banner = ""
	if c.m.o.Banner != "" {
		c.banner = c.m.st.Muted.Render(wrapWords(c.m.o.Banner, c.w))
	}
}

func (c *connectScreen) setSize(w, h int) tea.Cmd {
	c.w, c.h = w, h
	c.wrapBanner()
	var cmds []tea.Cmd
	c.form.WithWidth(min(w, 76))
	_, cmd := c.form.Update(tea.WindowSizeMsg{Width: min(w, 76), Height: h - 3})
	cmds = append(cmds, cmd)
	return tea.Batch(cmds...)
}

func (c *connectScreen) update(msg tea.Msg) tea.Cmd {
	if c.m.status != "" {
		return nil // connecting: the form is done
	}
	if c.picking {
		k, ok := msg.(tea.KeyMsg)
		if !ok {
			return nil
		}
		keys := c.m.keys
		switch {
		case key.Matches(k, keys.Up, keys.Prev):
			c.cursor = max(0, c.cursor-1)
		case key.Matches(k, keys.Down, keys.Next):
			c.cursor = min(len(c.recent), c.cursor+1)
		case key.Matches(k, keys.Enter):
			if c.cursor < len(c.recent) {
				r := c.recent[c.cursor]
				c.v.Host, c.v.Port, c.v.User = r.Host, strconv.Itoa(r.Port), r.User
				c.v.Mode = modeSSL
				if r.Plain {
					c.v.Mode = modePlain
				}
			}
			c.picking = false
			c.form = c.buildForm()
			return tea.Batch(c.form.Init(), c.setSize(c.w, c.h))
		}
		return nil
	}
	_, cmd := c.form.Update(msg)
	return cmd
}

// view is the form (or the recent routers), with the busy line while the
// engine connects.
func (c *connectScreen) view(w, h int) string {
	if c.m.status != "" {
		return c.formView() + "\n" + c.m.busyLine(c.m.status)
	}
	return c.formView()
}

func (c *connectScreen) shortHelp() []key.Binding {
	k := c.m.keys
	switch {
	case !c.typing():
		return []key.Binding{as(k.Enter, "choose"), k.Interrupt}
	case c.onPassword():
		// ? is part of the password here, not the help.
		return []key.Binding{as(k.Enter, "next"), as(k.Prev, "back"), k.Interrupt}
	}
	return []key.Binding{as(k.Enter, "next"), as(k.Prev, "back"), k.Help, k.Interrupt}
}

func (c *connectScreen) formView() string {
	s := c.form.View()
	if c.picking {
		s = c.pickView()
	}
	if c.banner != "" {
		s = c.banner + "\n\n" + s
	}
	return s
}

func (c *connectScreen) pickView() string {
	st := c.m.st
	var b strings.Builder
	b.WriteString(st.Title.Render("Recent routers") + "\n" + st.Muted.Render("Routers this machine connected to before.") + "\n\n")
	for i := 0; i <= len(c.recent); i++ {
		label := "Another router…"
		if i < len(c.recent) {
			label = c.recent[i].label()
		}
		if i == c.cursor {
			b.WriteString(st.ButtonOn.Render("> "+label) + "\n")
		} else {
			b.WriteString(st.Button.Render("  "+label) + "\n")
		}
	}
	return b.String()
}
