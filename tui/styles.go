package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
)

// Styles is every style the wizard renders with. It is built once by
// NewStyles and passed down to the screens, so View never creates styles.
type Styles struct {
	Header     lipgloss.Style
	HeaderStep lipgloss.Style
	Title      lipgloss.Style
	Muted      lipgloss.Style
	OK         lipgloss.Style
	Warn       lipgloss.Style
	Err        lipgloss.Style
	Danger     lipgloss.Style // a red stop: changed fingerprint
	Label      lipgloss.Style
	Value      lipgloss.Style
	Button     lipgloss.Style
	ButtonOn   lipgloss.Style
	Tab        lipgloss.Style
	TabOn      lipgloss.Style
	Countdown  lipgloss.Style
	Help       lipgloss.Style

	// Icons for the checklists. Plain ASCII in accessible mode.
	IconOK, IconFail, IconPending, IconWarn string
}

// NewStyles returns the wizard's styles. Colours are adaptive; lipgloss drops
// them on terminals (or profiles, such as NO_COLOR's ASCII) without colour.
func NewStyles(asciiIcons bool) Styles {
	red := lipgloss.AdaptiveColor{Light: "#C00000", Dark: "#FF5F5F"}
	green := lipgloss.AdaptiveColor{Light: "#007A00", Dark: "#5FD75F"}
	yellow := lipgloss.AdaptiveColor{Light: "#8A6A00", Dark: "#FFD75F"}
	accent := lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#AF87FF"}
	muted := lipgloss.AdaptiveColor{Light: "#6C6C6C", Dark: "#8A8A8A"}
	s := Styles{
		Header:      lipgloss.NewStyle().Bold(true).Foreground(accent),
		HeaderStep:  lipgloss.NewStyle().Foreground(muted),
		Title:       lipgloss.NewStyle().Bold(true),
		Muted:       lipgloss.NewStyle().Foreground(muted),
		OK:          lipgloss.NewStyle().Foreground(green),
		Warn:        lipgloss.NewStyle().Foreground(yellow),
		Err:         lipgloss.NewStyle().Foreground(red),
		Danger:      lipgloss.NewStyle().Bold(true).Foreground(red),
		Label:       lipgloss.NewStyle().Foreground(muted),
		Value:       lipgloss.NewStyle().Bold(true),
		Button:      lipgloss.NewStyle().Padding(0, 1),
		ButtonOn:    lipgloss.NewStyle().Padding(0, 1).Bold(true).Reverse(true),
		Tab:         lipgloss.NewStyle().Foreground(muted),
		TabOn:       lipgloss.NewStyle().Bold(true).Underline(true),
		Countdown:   lipgloss.NewStyle().Bold(true).Foreground(yellow),
		Help:        lipgloss.NewStyle().Foreground(muted),
		IconOK:      "✓",
		IconFail:    "✗",
		IconPending: "·",
		IconWarn:    "!",
	}
	if asciiIcons {
		s.IconOK, s.IconFail, s.IconPending, s.IconWarn = "[ok]", "[x]", "[ ]", "[!]"
	}
	return s
}

// KeyMap is every key the wizard answers to, built once by NewKeyMap. The
// screens match keys and build their footers from it, and the ? help lists
// it, so a key is defined once; a footer may describe a key in its own
// words (see as).
type KeyMap struct {
	Next, Prev     key.Binding // tab, shift+tab
	Enter          key.Binding
	Back           key.Binding // esc: back where that is safe
	Help           key.Binding
	Quit           key.Binding // q, ctrl+c: asks first
	Interrupt      key.Binding // ctrl+c: quits (asks first) even while typing
	Yes, No        key.Binding
	YesNo          key.Binding // y or n, for a footer
	Left, Right    key.Binding
	Up, Down       key.Binding
	PageUp, PageDn key.Binding
	Edit           key.Binding
	Add            key.Binding // a: add a device on the Done screen
}

// NewKeyMap returns the wizard's key bindings.
func NewKeyMap() KeyMap {
	return KeyMap{
		Next:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous")),
		Enter:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Help:   key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:   key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Yes:    key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:     key.NewBinding(key.WithKeys("n", "N"), key.WithHelp("n", "no")),
		Left:   key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/→", "choose")),
		Right:  key.NewBinding(key.WithKeys("right", "l")),
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", "scroll")),
		Down:   key.NewBinding(key.WithKeys("down", "j")),
		PageUp: key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup/pgdn", "page")),
		PageDn: key.NewBinding(key.WithKeys("pgdown", " ", "f")),
		Edit:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit settings")),

		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		YesNo:     key.NewBinding(key.WithKeys("y", "Y", "n", "N"), key.WithHelp("y/n", "yes/no")),
		Add:       key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add a device")),
	}
}

// as is b described in a footer's own words: the same keys, another help
// text ("enter next" on a form, "enter apply" on the Plan).
func as(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}
