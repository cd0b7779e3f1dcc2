package routeros

import (
	"context"
	"fmt"
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

func (a Args) words() []string {
	w := make([]string, len(a))
	for i, kv := range a {
		w[i] = "=" + kv.Key + "=" + kv.Value
	}
	return w
}

// Cmd builds a command: CommandPath(menu, verb) then args in order.
func Cmd(menu, verb string, args Args) []string {
	return append([]string{CommandPath(menu, verb)}, args.words()...)
}

// AddCmd builds an add; its !done carries the new id as "ret".
func AddCmd(menu string, args Args) []string { return Cmd(menu, "add", args) }

// SetCmd builds a set of one item: an id ("*1F") or a name
// ("api-ssl" under /ip service).
func SetCmd(menu, id string, args Args) []string {
	return append([]string{CommandPath(menu, "set"), itemWord(id)}, args.words()...)
}

// itemWord selects one item: ids by .id, names by numbers (the API
// accepts a name there, like the CLI's "set api-ssl").
func itemWord(id string) string {
	if strings.HasPrefix(id, "*") {
		return "=.id=" + id
	}
	return "=numbers=" + id
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
