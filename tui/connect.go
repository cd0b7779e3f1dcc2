package tui

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
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
	pick   *huh.Form // recent routers, nil when there are none
	form   *huh.Form
	w, h   int
}

func newConnectScreen(m *Model, recent []Recent) *connectScreen {
	c := &connectScreen{m: m, recent: recent, w: 80, h: 20}
	c.reset()
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
	c.pick = nil
	if len(c.recent) > 0 && o.Router == "" {
		opts := make([]huh.Option[string], 0, len(c.recent)+1)
		for i, r := range c.recent {
			opts = append(opts, huh.NewOption(r.label(), strconv.Itoa(i)))
		}
		opts = append(opts, huh.NewOption("Another router…", ""))
		c.pick = c.newForm(huh.NewGroup(
			huh.NewSelect[string]().Title("Recent routers").
				Description("Routers this machine onboarded or connected to before.").
				Options(opts...).Value(&c.v.Recent),
		))
		c.pick.SubmitCmd = func() tea.Msg { return pickedMsg{} }
	}
	c.form = c.buildForm()
}

// pickedMsg: the recent-router form was submitted.
type pickedMsg struct{}

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
		huh.NewInput().Title("Password").EchoMode(huh.EchoModePassword).Value(&v.Password),
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
	return nil
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

func (c *connectScreen) active() *huh.Form {
	if c.pick != nil {
		return c.pick
	}
	return c.form
}

func (c *connectScreen) init() tea.Cmd { return c.active().Init() }

// restart shows a fresh form with the last values (after esc from Inspect
// or a failed connect).
func (c *connectScreen) restart() tea.Cmd {
	v := *c.v
	c.pick = nil
	c.v = &v
	c.form = c.buildForm()
	return tea.Batch(c.form.Init(), c.setSize(c.w, c.h))
}

func (c *connectScreen) typing() bool { return c.pick == nil && c.m.status == "" }

func (c *connectScreen) values() *connectValues { return c.v }

func (c *connectScreen) recentEntry() Recent {
	return Recent{Host: strings.TrimSpace(c.v.Host), Port: c.v.port(), User: c.v.User, Plain: c.v.plain()}
}

func (c *connectScreen) setSize(w, h int) tea.Cmd {
	c.w, c.h = w, h
	var cmds []tea.Cmd
	for _, f := range []*huh.Form{c.pick, c.form} {
		if f != nil {
			f.WithWidth(min(w, 76))
			_, cmd := f.Update(tea.WindowSizeMsg{Width: min(w, 76), Height: h - 3})
			cmds = append(cmds, cmd)
		}
	}
	return tea.Batch(cmds...)
}

func (c *connectScreen) update(msg tea.Msg) tea.Cmd {
	if c.m.status != "" {
		return nil // connecting: the form is done
	}
	if _, ok := msg.(pickedMsg); ok && c.pick != nil {
		if i, err := strconv.Atoi(c.v.Recent); err == nil && i < len(c.recent) {
			r := c.recent[i]
			c.v.Host, c.v.Port, c.v.User = r.Host, strconv.Itoa(r.Port), r.User
			c.v.Mode = modeSSL
			if r.Plain {
				c.v.Mode = modePlain
			}
		}
		c.pick = nil
		c.form = c.buildForm()
		return tea.Batch(c.form.Init(), c.setSize(c.w, c.h))
	}
	f := c.active()
	_, cmd := f.Update(msg)
	return cmd
}

func (c *connectScreen) view() string {
	s := c.active().View()
	if c.m.o.Banner != "" {
		s = c.m.st.Muted.Render(c.m.o.Banner) + "\n\n" + s
	}
	return s
}
