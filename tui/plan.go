package tui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"

	"github.com/wgboot/wgboot/onboard"
)

// Plan screen tabs.
const (
	tabCommands = iota
	tabVerdicts
	tabWarnings
)

// planScreen shows the settings the engine chose, the exact RouterOS
// commands (scrollable) and the before/after verdicts. e opens the settings
// form; submitting it asks the engine for a new plan.
type planScreen struct {
	m       *Model
	plan    *onboard.Plan
	loading bool
	tab     int
	vp      viewport.Model
	form    *huh.Form
	sv      *settingsValues
	w, h    int

	// asked is the settings of the last plan asked for; want and edited
	// are the technician's own from the editor (kept across going back to
	// Connect). refused: the engine refused the settings (its Plan step
	// failed), and errMsg says why inside the editor.
	asked   onboard.Settings
	want    onboard.Settings
	edited  bool
	refused bool
	errMsg  string
	// good is what the last plan the engine accepted was asked with.
	good    onboard.Settings
	hasGood bool
}

// defaultConfirmTimeout fills the editor when no timeout was asked for
// (the command line's default).
const defaultConfirmTimeout = 5 * time.Minute

// settingsValues are the editable settings as the form's text.
type settingsValues struct {
	Subnet, Port, Endpoint, Local, Timeout string
	LANKeepsAPI, LogRefused                bool
}

// editDoneMsg: the settings form was submitted (ok) or cancelled.
type editDoneMsg struct{ ok bool }

func newPlanScreen(m *Model) *planScreen {
	return &planScreen{m: m, vp: viewport.New(76, 8), w: 80, h: 20}
}

func (p *planScreen) reset() {
	p.plan, p.loading, p.form, p.tab, p.errMsg = nil, false, nil, tabCommands, ""
}

// refusal reports whether a Plan error is about the settings (the engine's
// checks or its plan step refused them), to be fixed in the editor, rather
// than a lost router.
func (p *planScreen) refusal(error) bool {
	return p.refused || p.asked.Validate() != nil
}

// reopen shows the editor again after the engine refused the settings:
// with what was typed (or the settings asked for) and the reason.
func (p *planScreen) reopen(err error) tea.Cmd {
	p.loading = false
	p.errMsg = formError(err).Error()
	if p.sv == nil {
		p.sv = newSettingsValues(p.asked)
	}
	return p.buildForm()
}

func (p *planScreen) editing() bool { return p.form != nil }

func (p *planScreen) setPlan(pl *onboard.Plan) {
	p.plan = pl
	p.loading = false
	p.good, p.hasGood = p.asked, true
	if p.tab == tabWarnings && len(pl.Warnings) == 0 {
		p.tab = tabCommands
	}
	p.layout()
}

// layout sizes the viewport to what is left under the settings and tabs
// and fills it with the current tab's text.
func (p *planScreen) layout() {
	if p.plan == nil {
		return
	}
	head := strings.Count(p.settingsView(), "\n") + 1 + 2 + 1 + 1 // settings, blank+tabs, blank, footer line
	p.vp.Width = p.w
	p.vp.Height = max(3, p.h-head-1)
	var content string
	switch p.tab {
	case tabCommands:
		content = p.commandsText()
	case tabVerdicts:
		content = p.verdictsText()
	default:
		ws := make([]string, len(p.plan.Warnings))
		for i, w := range p.plan.Warnings {
			ws[i] = wrapWords(wizardText(line(w)), p.w)
		}
		content = strings.Join(ws, "\n\n")
	}
	p.vp.SetContent(clipRows(content, p.w))
	p.vp.GotoTop()
}

func (p *planScreen) setSize(w, h int) tea.Cmd {
	p.w, p.h = w, h
	p.layout()
	if p.form != nil {
		p.form.WithWidth(min(w, 76))
		_, cmd := p.form.Update(tea.WindowSizeMsg{Width: min(w, 76), Height: h - 2})
		return cmd
	}
	return nil
}

func (p *planScreen) commandsText() string {
	st := p.m.st
	var b strings.Builder
	step := onboard.Step("")
	for _, c := range p.plan.Changes {
		if c.Step != step {
			step = c.Step
			what := "Now (auto-rollback armed):"
			if step == onboard.StepHarden {
				what = "After the API answers through the tunnel, and only if you confirm:"
			}
			b.WriteString(st.Title.Render(what) + "\n")
		}
		b.WriteString(st.Muted.Render(wrapWords("# "+line(c.Description), p.w)) + "\n" + wrapCommand(line(c.Command), p.w) + "\n")
	}
	if len(p.plan.Changes) == 0 {
		b.WriteString("No changes: the router is already onboarded.\n")
	}
	if len(p.plan.Files) > 0 {
		b.WriteString(st.Muted.Render(wrapWords("# files on the router while armed: "+line(strings.Join(p.plan.Files, ", "))+
			" (the configuration before the run, without secrets; removed at commit and at rollback)", p.w)) + "\n")
	}
	return b.String()
}

func (p *planScreen) verdictsText() string {
	st := p.m.st
	wp, wb := len("Probe"), len("Before")
	verdicts := make([]onboard.VerdictRow, len(p.plan.Verdicts))
	for i, v := range p.plan.Verdicts {
		verdicts[i] = onboard.VerdictRow{Probe: line(v.Probe), Before: line(v.Before), After: line(v.After)}
	}
	for _, v := range verdicts {
		wp, wb = max(wp, lipgloss.Width(v.Probe)), max(wb, len(v.Before))
	}
	var b strings.Builder
	b.WriteString(st.Title.Render(pad("Probe", wp)+"  "+pad("Before", wb)+"  After") + "\n")
	for _, v := range verdicts {
		after := v.After
		switch {
		case v.After == v.Before:
		case strings.HasPrefix(v.After, "accept"):
			after = st.OK.Render(after)
		default:
			after = st.Warn.Render(after)
		}
		b.WriteString(v.Probe + strings.Repeat(" ", wp-lipgloss.Width(v.Probe)) + "  " + pad(v.Before, wb) + "  " + after + "\n")
	}
	return b.String()
}

func (p *planScreen) settingsView() string {
	st := p.m.st
	s := p.plan.Settings
	kv := func(k, v string) string { return st.Label.Render(k+" ") + st.Value.Render(v) }
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	line1 := kv("Subnet", line(s.Subnet)) + "   " + kv("Port", strconv.Itoa(s.ListenPort)) + "   " + kv("Endpoint", line(s.Endpoint))
	line2 := kv("Local", s.Local) + "   " + kv("LAN keeps API", yn(s.LANKeepsAPI)) + "   " +
		kv("Log refused", yn(s.LogRefused)) + "   " + kv("Confirm", fmtDuration(s.ConfirmTimeout))
	return line1 + "\n" + line2
}

func (p *planScreen) tabsView() string {
	st := p.m.st
	names := []string{fmt.Sprintf("Commands (%d)", len(p.plan.Changes)), "Before/after"}
	if len(p.plan.Warnings) > 0 {
		names = append(names, fmt.Sprintf("Warnings (%d)", len(p.plan.Warnings)))
	}
	out := make([]string, len(names))
	for i, n := range names {
		if i == p.tab {
			out[i] = st.TabOn.Render(n)
		} else {
			out[i] = st.Tab.Render(n)
		}
	}
	return strings.Join(out, st.Muted.Render(" │ "))
}

func (p *planScreen) view(w, h int) string {
	st := p.m.st
	if p.form != nil {
		head := st.Title.Render("Settings") + "\n"
		if p.errMsg != "" {
			head += st.Err.Render(wrapWords(st.IconFail+" "+p.errMsg, w)) + "\n" +
				st.Muted.Render("Nothing was changed on the router. Correct the value and press enter.") + "\n"
		}
		return head + p.form.View()
	}
	if p.plan == nil {
		return p.m.busyLine("Preparing the plan…")
	}
	scroll := ""
	if !(p.vp.AtTop() && p.vp.AtBottom()) {
		scroll = st.Muted.Render(fmt.Sprintf("  %3.f%%", p.vp.ScrollPercent()*100))
	}
	return p.settingsView() + "\n\n" + p.tabsView() + scroll + "\n\n" + p.vp.View() + "\n" +
		st.Muted.Render("Nothing has changed yet. enter applies with auto-rollback armed.")
}

// update: outside the editor, esc goes back to Inspect and enter applies
// the plan on show; the rest is the editor's or the tabs'.
func (p *planScreen) update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok && !p.editing() {
		switch {
		case key.Matches(k, p.m.keys.Back):
			p.m.scr = scrInspect
			return nil
		case key.Matches(k, p.m.keys.Enter) && p.plan != nil:
			return p.m.startApply()
		}
	}
	return p.edit(msg)
}

func (p *planScreen) typing() bool { return p.editing() }

func (p *planScreen) shortHelp() []key.Binding {
	k := p.m.keys
	if p.editing() {
		return []key.Binding{as(k.Enter, "next"), as(k.Back, "cancel"), k.Help, k.Interrupt}
	}
	return []key.Binding{as(k.Enter, "apply"), as(k.Edit, "edit"), as(k.Next, "view"), k.Up, k.Back, k.Help, k.Quit}
}

// edit handles the settings editor's messages and the keys of the tabs.
func (p *planScreen) edit(msg tea.Msg) tea.Cmd {
	if d, ok := msg.(editDoneMsg); ok {
		form := p.form
		p.form = nil
		if !d.ok || form == nil {
			return p.cancelEdit()
		}
		base := p.asked
		if p.plan != nil {
			base = p.plan.Settings
		}
		s, err := p.sv.settings(base)
		if err == nil {
			err = s.Validate() // the engine's own checks, before leaving the editor
		}
		if err != nil {
			return p.reopen(err)
		}
		p.plan, p.want, p.edited, p.errMsg = nil, s, true, ""
		return p.m.replan(s)
	}
	if p.form != nil {
		if k, ok := msg.(tea.KeyMsg); ok && key.Matches(k, p.m.keys.Back) {
			p.form = nil
			return p.cancelEdit()
		}
		_, cmd := p.form.Update(msg)
		return cmd
	}
	k, ok := msg.(tea.KeyMsg)
	if !ok || p.plan == nil {
		return nil
	}
	keys := p.m.keys
	ntabs := 2
	if len(p.plan.Warnings) > 0 {
		ntabs = 3
	}
	switch {
	case key.Matches(k, keys.Next), key.Matches(k, keys.Right):
		p.tab = (p.tab + 1) % ntabs
		p.layout()
	case key.Matches(k, keys.Prev), key.Matches(k, keys.Left):
		p.tab = (p.tab + ntabs - 1) % ntabs
		p.layout()
	case key.Matches(k, keys.Edit):
		return p.openForm()
	default:
		var cmd tea.Cmd
		p.vp, cmd = p.vp.Update(k)
		return cmd
	}
	return nil
}

// cancelEdit closes the editor without a new plan: back to the plan, or to
// Inspect when the engine refused every plan so far.
func (p *planScreen) cancelEdit() tea.Cmd {
	p.errMsg = ""
	if p.plan != nil {
		return nil
	}
	if p.hasGood {
		// Back to the last plan the engine accepted.
		p.want = p.good
		return p.m.replan(p.good)
	}
	p.loading = false
	p.m.scr = scrInspect
	return nil
}

func newSettingsValues(s onboard.Settings) *settingsValues {
	v := &settingsValues{
		Subnet: s.Subnet, Endpoint: s.Endpoint, Local: s.Local,
		LANKeepsAPI: s.LANKeepsAPI, LogRefused: s.LogRefused,
	}
	if s.ListenPort != 0 {
		v.Port = strconv.Itoa(s.ListenPort)
	}
	if s.ConfirmTimeout == 0 {
		s.ConfirmTimeout = defaultConfirmTimeout
	}
	v.Timeout = fmtDuration(s.ConfirmTimeout)
	if v.Local == "" {
		v.Local = "auto"
	}
	return v
}

func (p *planScreen) openForm() tea.Cmd {
	p.sv = newSettingsValues(p.plan.Settings)
	p.errMsg = ""
	return p.buildForm()
}

// buildForm shows the settings editor with the values in p.sv.
func (p *planScreen) buildForm() tea.Cmd {
	v := p.sv
	p.form = huh.NewForm(
		huh.NewGroup(
			huh.NewInput().Title("VPN subnet").Description("The router takes the first address, you the second. Empty: a free one.").
				Value(&v.Subnet).Validate(validateSubnet),
			huh.NewInput().Title("WireGuard listen port").Value(&v.Port).Validate(validatePort),
			huh.NewInput().Title("Published endpoint").Description("Host written into your config (DDNS name or public address).").
				Value(&v.Endpoint).Validate(validateEndpoint),
			huh.NewSelect[string]().Title("Local WireGuard").Options(
				huh.NewOption("auto", "auto"), huh.NewOption("kernel (needs root)", "kernel"), huh.NewOption("netstack (no root)", "netstack"),
			).Value(&v.Local),
		),
		huh.NewGroup(
			huh.NewConfirm().Title("LAN keeps API access?").Value(&v.LANKeepsAPI),
			huh.NewConfirm().Title("Log refused API attempts on the WAN?").Value(&v.LogRefused),
			huh.NewInput().Title("Confirm timeout").Description("How long the router waits before it rolls itself back.").
				Value(&v.Timeout).Validate(validateTimeout),
		),
	).WithShowHelp(false).WithWidth(min(p.w, 76))
	if p.m.o.Accessible {
		p.form = p.form.WithTheme(huh.ThemeBase())
	}
	p.form.SubmitCmd = func() tea.Msg { return editDoneMsg{ok: true} }
	p.form.CancelCmd = func() tea.Msg { return editDoneMsg{ok: false} }
	return tea.Batch(p.form.Init(), p.setSize(p.w, p.h))
}

func (v *settingsValues) settings(base onboard.Settings) (onboard.Settings, error) {
	s := base
	s.Subnet = strings.TrimSpace(v.Subnet)
	s.ListenPort = 0 // empty: the engine picks 13231 or the next free port
	if p := strings.TrimSpace(v.Port); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil {
			return s, fmt.Errorf("tui: listen port %q: %w", p, err)
		}
		s.ListenPort = port
	}
	s.Endpoint = strings.TrimSpace(v.Endpoint)
	s.Local = v.Local
	s.LANKeepsAPI, s.LogRefused = v.LANKeepsAPI, v.LogRefused
	d, err := parseTimeout(v.Timeout)
	if err != nil {
		return s, err
	}
	s.ConfirmTimeout = d
	return s, nil
}

// validateSubnet applies the engine's own check (empty: the engine picks
// a free one).
func validateSubnet(s string) error {
	return formError(onboard.Settings{Subnet: strings.TrimSpace(s)}.Validate())
}

// validateEndpoint applies the engine's own check (empty: the engine
// chooses), so the form refuses what Plan would.
func validateEndpoint(s string) error {
	return formError(onboard.Settings{Endpoint: strings.TrimSpace(s)}.Validate())
}

// formError drops the package prefix: a form shows the message beside its field.
func formError(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(wizardText(strings.TrimPrefix(err.Error(), "onboard: ")))
}

// Limits of the confirm timeout: below a minute the technician cannot read
// the Gate; above an hour a mistake locks the router out for too long.
const (
	minTimeout = time.Minute
	maxTimeout = time.Hour
)

func parseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, errors.New("a duration looks like 5m or 90s")
	}
	if d < minTimeout || d > maxTimeout {
		return 0, errors.New("choose from 1m to 1h")
	}
	return d, nil
}

func validateTimeout(s string) error { _, err := parseTimeout(s); return err }

// fmtDuration prints 5m0s as 5m and 1h0m0s as 1h.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
