package routeros

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// CommandPath turns a menu in CLI form ("/ip firewall filter") or API
// form ("/ip/firewall/filter") and a verb ("print") into the API command
// word "/ip/firewall/filter/print". An empty verb gives the menu path.
func CommandPath(menu, verb string) string {
	parts := strings.FieldsFunc(menu, func(r rune) bool { return r == ' ' || r == '/' || r == '\t' })
	if verb != "" {
		parts = append(parts, verb)
	}
	return "/" + strings.Join(parts, "/")
}

// Arg is one attribute, sent as "=Key=Value".
type Arg struct{ Key, Value string }

// Args are attributes in the order they are sent.
type Args []Arg

// MapArgs orders m by key, so the words sent (and any golden file) are
// stable.
func MapArgs(m map[string]string) Args {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	a := make(Args, len(keys))
	for i, k := range keys {
		a[i] = Arg{k, m[k]}
	}
	return a
}

func (a Args) words() []string {
	w := make([]string, len(a))
	for i, kv := range a {
		w[i] = "=" + kv.Key + "=" + kv.Value
	}
	return w
}

// PrintOpt narrows a print.
type PrintOpt func(*[]string)

// Proplist asks only for these properties (".id" must be named to get it).
func Proplist(props ...string) PrintOpt {
	return func(w *[]string) { *w = append(*w, "=.proplist="+strings.Join(props, ",")) }
}

// Where keeps rows whose prop equals value. Several Where are ANDed.
func Where(prop, value string) PrintOpt {
	return func(w *[]string) { *w = append(*w, "?"+prop+"="+value) }
}

// Query appends raw query words ("?name", "?-name", "?>name=v", "?#|"),
// for what Where cannot say. Words must start with "?".
func Query(words ...string) PrintOpt {
	return func(w *[]string) { *w = append(*w, words...) }
}

// Cmd builds a command: CommandPath(menu, verb) then args in order.
func Cmd(menu, verb string, args Args) []string {
	return append([]string{CommandPath(menu, verb)}, args.words()...)
}

// PrintCmd builds a print of menu.
func PrintCmd(menu string, opts ...PrintOpt) []string {
	w := []string{CommandPath(menu, "print")}
	for _, o := range opts {
		o(&w)
	}
	return w
}

// AddCmd builds an add; its !done carries the new id as "ret".
func AddCmd(menu string, args Args) []string { return Cmd(menu, "add", args) }

// SetCmd builds a set of one item: an id ("*1F") or a name
// ("api-ssl" under /ip service).
func SetCmd(menu, id string, args Args) []string {
	return append([]string{CommandPath(menu, "set"), itemWord(id)}, args.words()...)
}

// RemoveCmd builds a remove of the items.
func RemoveCmd(menu string, ids ...string) []string {
	return []string{CommandPath(menu, "remove"), "=numbers=" + strings.Join(ids, ",")}
}

// MoveCmd builds a move of the items to just before destination; an
// empty destination moves them to the end.
func MoveCmd(menu string, ids []string, destination string) []string {
	w := []string{CommandPath(menu, "move"), "=numbers=" + strings.Join(ids, ",")}
	if destination != "" {
		w = append(w, "=destination="+destination)
	}
	return w
}

// itemWord selects one item: ids by .id, names by numbers (the API
// accepts a name there, like the CLI's "set api-ssl").
func itemWord(id string) string {
	if strings.HasPrefix(id, "*") {
		return "=.id=" + id
	}
	return "=numbers=" + id
}

// Print runs a print of menu and returns its rows.
func (c *Client) Print(ctx context.Context, menu string, opts ...PrintOpt) ([]map[string]string, error) {
	r, err := c.Run(ctx, PrintCmd(menu, opts...)...)
	if err != nil {
		return nil, err
	}
	return r.Re, nil
}

// Add adds an item to menu and returns its id (like "*1F").
func (c *Client) Add(ctx context.Context, menu string, args Args) (string, error) {
	r, err := c.Run(ctx, AddCmd(menu, args)...)
	if err != nil {
		return "", err
	}
	id := r.Done["ret"]
	if id == "" {
		return "", fmt.Errorf("routeros: %s: the router returned no id for the new item", CommandPath(menu, "add"))
	}
	return id, nil
}

// Set changes an item's properties.
func (c *Client) Set(ctx context.Context, menu, id string, args Args) error {
	_, err := c.Run(ctx, SetCmd(menu, id, args)...)
	return err
}

// Remove removes the items. No ids is a no-op.
func (c *Client) Remove(ctx context.Context, menu string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.Run(ctx, RemoveCmd(menu, ids...)...)
	return err
}

// Move moves the items to just before destination ("" = to the end).
func (c *Client) Move(ctx context.Context, menu string, ids []string, destination string) error {
	if len(ids) == 0 {
		return nil
	}
	if slices.Contains(ids, destination) {
		return fmt.Errorf("routeros: %s: cannot move %s before itself", CommandPath(menu, "move"), destination)
	}
	_, err := c.Run(ctx, MoveCmd(menu, ids, destination)...)
	return err
}
