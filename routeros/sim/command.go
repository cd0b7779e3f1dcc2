package sim

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// trapError is a command failure answered with !trap; msg is the RouterOS text.
type trapError struct {
	category int // -1: no category word
	msg      string
	extra    []string // further trap messages sent before !done
}

func (e *trapError) Error() string { return "sim: " + e.msg }

func trap(cat int, format string, a ...any) *trapError {
	return &trapError{category: cat, msg: fmt.Sprintf(format, a...)}
}

var (
	errUnknownParam = func() *trapError { return trap(-1, "unknown parameter") }
	errNoSuchItem   = func() *trapError { return trap(-1, "no such item (4)") }
	errBuiltin      = func() *trapError { return trap(-1, "cannot move builtin") }
	errPermission   = func() *trapError { return trap(-1, "not enough permissions (9)") }
)

func noSuchCommand(word string) *trapError {
	return &trapError{category: 0, msg: "no such command or directory (" + word + ")", extra: []string{"no such command prefix"}}
}

// arg is one attribute word of a command, in order.
type arg struct{ Key, Value string }

// request is one command, from the API, a script or the config loader.
type request struct {
	menu   string // "/ip firewall filter"
	verb   string
	args   []arg
	query  []string // API query words, print only
	policy map[string]bool
	system bool // config loader or script: full rights
}

func (q *request) get(k string) (string, bool) {
	for _, a := range q.args {
		if a.Key == k {
			return a.Value, true
		}
	}
	return "", false
}

// reply is what a command answers: rows for !re and an optional ret.
type reply struct {
	rows    [][]arg
	ret     string
	hasRet  bool
	empty   bool     // a print that matched nothing: !empty from 7.18 on
	follow  bool     // print follow: keep running until cancelled
	again   *request // follow: the print to run again on each change
	rowsAll [][]arg  // follow: every matching row now (follow-only sends none of them)
}

// specialVerbs are commands that are not generic menu verbs.
var specialVerbs = map[string][]string{
	"":                     {"export", "quit"},
	"/system":              {"reboot", "shutdown"},
	"/system backup":       {"save", "load"},
	"/system script":       {"run"},
	"/system scheduler":    {},
	"/file":                {"read"},
	"/certificate":         {"sign"},
	"/ip firewall filter":  {"reset-counters", "reset-counters-all"},
	"/ip firewall nat":     {"reset-counters", "reset-counters-all"},
	"/ip firewall raw":     {"reset-counters", "reset-counters-all"},
	"/ip firewall mangle":  {"reset-counters", "reset-counters-all"},
	"/log":                 {},
	"/interface wireguard": {},
}

var writeVerbs = map[string]bool{"add": true, "set": true, "remove": true, "move": true, "enable": true, "disable": true,
	"unset": true, "run": true, "reboot": true, "shutdown": true, "save": true, "load": true, "sign": true,
	"reset-counters": true, "reset-counters-all": true, "comment": true}

// resolvePath splits an API command word into menu and verb, or returns
// the trap RouterOS gives for an unknown one.
func (st *state) resolvePath(word string) (menu, verb string, err *trapError) {
	parts := strings.Split(strings.Trim(word, "/"), "/")
	if len(parts) == 0 || parts[0] == "" {
		return "", "", noSuchCommand("")
	}
	for i := range parts[:len(parts)-1] {
		p := "/" + strings.Join(parts[:i+1], " ")
		if !st.hasPrefix(p) {
			return "", "", noSuchCommand(parts[i])
		}
	}
	menu, verb = "", parts[len(parts)-1]
	if len(parts) > 1 {
		menu = "/" + strings.Join(parts[:len(parts)-1], " ")
	}
	for _, v := range specialVerbs[menu] {
		if v == verb {
			return menu, verb, nil
		}
	}
	t := st.table(menu, false)
	if t == nil || st.absent(menu) || !verbAllowed(t.s, verb) {
		return "", "", noSuchCommand(verb)
	}
	return menu, verb, nil
}

func verbAllowed(s *schema, verb string) bool {
	switch verb {
	case "print", "get", "getall", "listen":
		return true
	}
	if s.readOnly {
		return false
	}
	switch s.kind {
	case kindSingle:
		return verb == "set" || verb == "unset"
	case kindFixed:
		return verb == "set" || verb == "unset" || verb == "enable" || verb == "disable"
	}
	switch verb {
	case "add", "set", "remove", "unset":
		return true
	case "enable", "disable":
		return s.generic || s.byName["disabled"] != nil
	case "move":
		return s.ordered || s.generic
	}
	return false
}

// exec runs one command against the state. The caller holds Router.mu.
func (r *Router) exec(ctx context.Context, q *request) (*reply, error) {
	st := r.st
	if !q.system && writeVerbs[q.verb] && !q.policy["write"] {
		return nil, errPermission()
	}
	t := st.table(q.menu, false)
	if t == nil {
		return nil, noSuchCommand(q.verb)
	}
	if q.menu == "/interface" {
		return r.execInterface(q)
	}
	switch q.verb {
	case "print", "getall": // getall is the API's old name for print
		return r.print(t, q)
	case "listen": // streams changes, as print follow-only does
		l := *q
		l.args = append(append([]arg(nil), q.args...), arg{"follow-only", ""})
		return r.print(t, &l)
	case "get":
		return r.getValue(t, q)
	case "add":
		return r.add(t, q)
	case "set", "unset", "enable", "disable":
		return r.set(t, q)
	case "remove":
		return r.remove(t, q)
	case "move":
		return r.move(t, q)
	case "reset-counters", "reset-counters-all":
		items := t.items
		if q.verb == "reset-counters" {
			var err error
			if items, err = r.resolve(t, q); err != nil {
				return nil, err
			}
		}
		for _, it := range items {
			it.packets, it.bytes = 0, 0
		}
		return &reply{}, nil
	}
	return nil, noSuchCommand(q.verb)
}

// resolve finds the items named by numbers= (or .id=): ids and names.
func (r *Router) resolve(t *table, q *request) ([]*item, error) {
	v, ok := q.get("numbers")
	if !ok {
		v, ok = q.get(".id")
	}
	if !ok {
		v, ok = q.get("number")
	}
	if !ok {
		if t.s.kind == kindSingle {
			return t.items, nil
		}
		return nil, trap(-1, "missing value for numbers")
	}
	var out []*item
	seen := map[*item]bool{}
	for _, tok := range strings.Split(v, ",") {
		it := r.findOne(t, tok)
		if it == nil {
			return nil, errNoSuchItem()
		}
		if !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	return out, nil
}

func (r *Router) findOne(t *table, tok string) *item {
	if id, ok := parseID(tok); ok {
		_, it := t.byID(id)
		return it
	}
	if t.s.ordered && tok != "" && strings.Trim(tok, "0123456789") == "" {
		// A position as print numbers it (place-before=0), dynamic rules included.
		if n, err := strconv.Atoi(tok); err == nil && n < len(t.items) {
			return t.items[n]
		}
		return nil
	}
	for _, it := range t.items {
		if t.s.key != "" && it.props[t.s.key] == tok {
			return it
		}
		if t.s.generic && it.props["name"] == tok {
			return it
		}
	}
	if t.s.menu == "/interface ethernet" {
		for _, it := range t.items {
			if it.props["default-name"] == tok {
				return it
			}
		}
	}
	return nil
}

// normalizeArg is normalize, except while a configuration loads: a
// property of a modelled menu that rossim does not know (a real export
// has many: port-cost-mode, disable-running-check, internal-path-cost) is
// kept as written, printed and exported back, and has no effect.
//
// A read-only property an export writes (owner= of a script) is kept the
// same way, and so is a reference to an interface the export does not
// create (a dynamic one, or one of a package rossim lacks): RouterOS
// loads such an item and marks it invalid.
func (r *Router) normalizeArg(t *table, k, v string) (string, string, error) {
	if !r.loading || t.s.generic {
		return r.normalize(t, k, v)
	}
	f := t.s.field(k)
	if f == nil && isPropName(k) || f != nil && f.ro {
		return k, v, nil
	}
	nk, nv, err := r.normalize(t, k, v)
	if err != nil && f != nil && (f.typ == tIface || f.typ == tIList || f.typ == tBridge || f.typ == tWGIface) {
		return f.name, v, nil
	}
	return nk, nv, err
}

// isPropName reports a word that can name a property (or a flag: !x).
func isPropName(k string) bool {
	k = strings.TrimPrefix(k, "!")
	if k == "" || k[0] == '.' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// noteGiven remembers, while a configuration loads, a property as the
// configuration wrote it. A later change through the API leaves it: export
// uses it only while the property has the value it got from it, so a
// change set back (a rollback) exports as the loaded configuration did.
func (r *Router) noteGiven(it *item, k, raw, stored string) {
	if !r.loading {
		return
	}
	if it.given == nil {
		it.given = map[string]givenValue{}
	}
	it.given[k] = givenValue{raw: raw, stored: stored}
}

// normalize checks one user-supplied value and returns it in RouterOS form.
//
// Long because: one case per value type of the schema (bool, int, duration,
// enum, interface, list, prefix, address), each with its RouterOS trap.
func (r *Router) normalize(t *table, k, v string) (string, string, error) {
	s := t.s
	if s.generic {
		if k == "" || strings.HasPrefix(k, ".") {
			return "", "", errUnknownParam()
		}
		return k, v, nil
	}
	f := s.field(k)
	if f == nil || f.ro {
		return "", "", errUnknownParam()
	}
	k = f.name
	bad := func() error { return trap(1, "input does not match any value of %s", k) }
	switch f.typ {
	case tBool:
		b, ok := parseBool(v)
		if !ok {
			return "", "", bad()
		}
		return k, strconv.FormatBool(b), nil
	case tInt:
		if v == "" && !f.hasDef {
			return k, "", nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", "", trap(1, "invalid value for argument %s", k)
		}
		if n < f.min || n > f.max {
			return "", "", trap(1, "value of %s out of range (%d..%d)", k, f.min, f.max)
		}
		return k, strconv.FormatInt(n, 10), nil
	case tDur:
		if v == "" || v == "none" {
			return k, v, nil
		}
		d, err := parseDuration(v)
		if err != nil {
			return "", "", trap(1, "invalid time value for argument %s", k)
		}
		return k, formatDuration(d), nil
	case tEnum:
		for _, e := range f.enum {
			if e == v {
				return k, v, nil
			}
		}
		if k == "ddns-enabled" {
			return "", "", trap(1, "invalid value of ddns-enabled, must be either yes or auto")
		}
		return "", "", bad()
	case tIface:
		if _, ok := r.st.iface(v); !ok {
			return "", "", bad()
		}
	case tWGIface, tBridge:
		ref, ok := r.st.iface(v)
		want := map[ftype]string{tWGIface: "wg", tBridge: "bridge"}[f.typ]
		if !ok || ref.typ != want {
			return "", "", bad()
		}
	case tIList:
		if r.findOne(r.st.tables["/interface list"], v) == nil {
			return "", "", bad()
		}
	case tGroup:
		if r.findOne(r.st.tables["/user group"], v) == nil {
			return "", "", bad()
		}
	case tPrefix:
		if _, err := netip.ParsePrefix(v); err != nil {
			if _, err := netip.ParseAddr(v); err != nil {
				return "", "", trap(1, "invalid value for argument %s", k)
			}
			v += "/32"
		}
	case tAddr:
		if _, err := netip.ParseAddr(v); err != nil {
			return "", "", trap(1, "invalid value for argument %s", k)
		}
	}
	return k, v, nil
}

func (r *Router) add(t *table, q *request) (*reply, error) {
	it := &item{props: map[string]string{}, created: r.clk.now()}
	place := ""
	for _, a := range q.args {
		switch {
		case a.Key == "place-before" && (t.s.ordered || t.s.generic):
			place = a.Value
			continue
		case a.Key == "copy-from":
			continue
		}
		k, v, err := r.normalizeArg(t, a.Key, a.Value)
		if err != nil {
			return nil, err
		}
		it.set(k, v)
		r.noteGiven(it, k, a.Value, v)
	}
	if err := r.check(t, it, nil); err != nil {
		return nil, err
	}
	idx := len(t.items)
	if place != "" {
		target := r.findOne(t, place)
		if target == nil {
			return nil, errNoSuchItem()
		}
		idx, _ = t.byID(target.id)
		if r.leadingDynamic(t) > idx {
			return nil, errBuiltin()
		}
	}
	*t.counter++
	it.id = *t.counter
	t.items = append(t.items, nil)
	copy(t.items[idx+1:], t.items[idx:])
	t.items[idx] = it
	if bi := r.bootIndex(t); bi != nil {
		bi[uniqKey(t, it, t.s.unique[0])] = true
	}
	r.touched(t.s.menu)
	return &reply{ret: formatID(it.id), hasRet: true}, nil
}

// bootIndex returns, while the configuration loads, the unique keys of an
// address list table's static entries: an imported blocklist of 50,000
// entries would otherwise compare every add with every entry before it.
// Any other command on the table drops the index (rebuilt on next use).
func (r *Router) bootIndex(t *table) map[string]bool {
	if r.bootUniq == nil || len(t.s.unique) != 1 || (t.s.menu != "/ip firewall address-list" && t.s.menu != "/ipv6 firewall address-list") {
		return nil
	}
	if idx, ok := r.bootUniq[t]; ok {
		return idx
	}
	idx := make(map[string]bool, len(t.items))
	for _, o := range t.items {
		if !o.dynamic {
			idx[uniqKey(t, o, t.s.unique[0])] = true
		}
	}
	r.bootUniq[t] = idx
	return idx
}

func uniqKey(t *table, it *item, u uniq) string {
	var b strings.Builder
	for _, p := range u.props {
		v, _ := t.get(it, p)
		b.WriteString(v)
		b.WriteByte(0)
	}
	return b.String()
}

func (r *Router) leadingDynamic(t *table) int {
	n := 0
	for n < len(t.items) && t.items[n].dynamic {
		n++
	}
	return n
}

// check validates a whole item (after add or set) against its menu.
//
// Long because: one rule per RouterOS invariant on an item (required,
// unique, references, per-menu constraints), each with its trap message.
func (r *Router) check(t *table, it *item, self *item) error {
	s := t.s
	var missing []string
	for _, p := range s.required {
		if v, ok := t.get(it, p); !ok || v == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		// The console's text for required arguments left out.
		return trap(1, "missing value(s) of argument(s) %s", strings.Join(missing, " "))
	}
	for _, u := range s.unique {
		if idx := r.bootIndex(t); idx != nil && self == nil {
			if idx[uniqKey(t, it, u)] {
				return trap(-1, "%s", u.msg)
			}
			continue
		}
		for _, o := range t.items {
			if o == self || o.dynamic && s.menu != "/interface list" {
				continue
			}
			same := true
			for _, p := range u.props {
				a, _ := t.get(it, p)
				b, _ := t.get(o, p)
				if a != b {
					same = false
					break
				}
			}
			if same {
				return trap(-1, "%s", u.msg)
			}
		}
	}
	if s.ifType != "" {
		name := it.props["name"]
		if name == "" && self == nil {
			// RouterOS names a new interface after its type: bridge1, wireguard1.
			base := map[string]string{"bridge": "bridge", "vlan": "vlan", "pppoe-out": "pppoe-out", "wg": "wireguard"}[s.ifType]
			for n := 1; name == ""; n++ {
				cand := base + strconv.Itoa(n)
				if _, ok := r.st.iface(cand); !ok {
					name = cand
				}
			}
			it.set("name", name)
		}
		if name == "" {
			return trap(1, "missing value(s) of argument(s) name")
		}
		for _, ref := range r.st.interfaces() {
			if ref.name == name && ref.it != self {
				return trap(-1, "failure: already have interface with such name")
			}
		}
	}
	switch s.menu {
	case "/ip firewall filter", "/ip firewall nat", "/ip firewall raw", "/ip firewall mangle", "/ipv6 firewall filter":
		if _, ok := it.props["action"]; !ok {
			it.set("action", "accept")
		}
		if err := validateRule(s.menu, t, it); err != nil {
			return err
		}
	case "/interface wireguard":
		if pk, ok := it.props["private-key"]; ok {
			if _, err := wgtypes.ParseKey(pk); err != nil {
				return trap(1, "invalid private key")
			}
		} else {
			k, err := wgtypes.GeneratePrivateKey()
			if err != nil {
				return trap(4, "failure: %v", err)
			}
			it.set("private-key", k.String())
		}
	case "/interface wireguard peers":
		for _, p := range []string{"public-key", "preshared-key"} {
			if v := it.props[p]; v != "" {
				if _, err := wgtypes.ParseKey(v); err != nil {
					return trap(1, "invalid %s", p)
				}
			}
		}
		for _, a := range splitList(it.props["allowed-address"]) {
			if _, err := netip.ParsePrefix(a); err != nil {
				if _, err := netip.ParseAddr(a); err != nil {
					return trap(1, "invalid value for argument allowed-address")
				}
			}
		}
		if v := it.props["endpoint-address"]; v != "" {
			if _, err := netip.ParseAddr(v); err != nil && strings.ContainsAny(v, " /") {
				return trap(1, "invalid value for argument endpoint-address")
			}
		}
	case "/ip address":
		p, err := netip.ParsePrefix(it.props["address"])
		if err != nil {
			return trap(1, "invalid value for argument address")
		}
		if _, ok := it.props["network"]; !ok || it.props["network"] == "" {
			it.set("network", p.Masked().Addr().String())
		}
	case "/ip firewall address-list":
		if v := it.props["address"]; v != "" && !validAddressListEntry(v) {
			return trap(1, "invalid value for argument address")
		}
		if v := it.props["timeout"]; v != "" && v != "0s" && self == nil {
			// An entry with a timeout is dynamic: it expires and is not exported.
			d, _ := parseDuration(v)
			it.dynamic = true
			it.expires = r.clk.now().Add(d)
		}
	case "/ip route":
		if _, err := netip.ParsePrefix(it.props["dst-address"]); it.props["dst-address"] != "" && err != nil {
			return trap(1, "invalid value for argument dst-address")
		}
	case "/user":
		if self == nil {
			if _, ok := it.props["password"]; !ok {
				it.set("password", "")
			}
		}
		for _, a := range splitList(it.props["address"]) {
			if _, err := netip.ParsePrefix(a); err != nil {
				if _, err := netip.ParseAddr(a); err != nil {
					return trap(1, "invalid value for argument address")
				}
			}
		}
	case "/system scheduler":
		if v := it.props["start-time"]; v != "" && v != "startup" {
			if _, err := parseClock(v); err != nil {
				return trap(1, "invalid value for argument start-time")
			}
		}
		if v := it.props["start-date"]; v != "" {
			d, err := r.parseDateInput(v)
			if err != nil {
				return trap(1, "invalid value for argument start-date")
			}
			// Kept as a date: print shows it in the version's own form.
			it.set("start-date", r.formatDate(d))
		}
	case "/ip service":
		if v := it.props["certificate"]; v != "" && v != "none" {
			if r.findOne(r.st.tables["/certificate"], v) == nil {
				if !r.loading {
					return trap(1, "input does not match any value of certificate")
				}
				// Exports do not carry certificates: one named by a loaded
				// configuration is taken to exist on the router.
				if err := r.addCertLocked(v); err != nil {
					return err
				}
			}
		}
		for _, a := range splitList(serviceAddress(t, it)) {
			if _, err := netip.ParsePrefix(a); err != nil {
				if _, err := netip.ParseAddr(a); err != nil {
					return trap(1, "invalid value for argument address")
				}
			}
		}
	case "/file":
		if len(it.props["contents"]) > maxFileContents {
			return trap(1, "failure: contents too long, use /file/read and /file/write")
		}
	}
	return nil
}

const maxFileContents = 60 * 1024

func validAddressListEntry(v string) bool {
	if _, err := netip.ParseAddr(v); err == nil {
		return true
	}
	if _, err := netip.ParsePrefix(v); err == nil {
		return true
	}
	if a, b, ok := strings.Cut(v, "-"); ok {
		x, err1 := netip.ParseAddr(a)
		y, err2 := netip.ParseAddr(b)
		return err1 == nil && err2 == nil && x.Compare(y) <= 0
	}
	// A DNS name that the router resolves.
	return !strings.ContainsAny(v, " /,") && strings.Contains(v, ".")
}

func serviceAddress(t *table, it *item) string {
	if v, ok := it.props["available-from"]; ok {
		return v
	}
	v, _ := t.get(it, "address")
	return v
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (r *Router) set(t *table, q *request) (*reply, error) {
	items, err := r.resolve(t, q)
	if err != nil {
		return nil, err
	}
	type change struct{ old, neu *item }
	var changes []change
	for _, it := range items {
		n := it.clone()
		switch q.verb {
		case "enable", "disable":
			n.set("disabled", strconv.FormatBool(q.verb == "disable"))
		case "unset":
			name, _ := q.get("value-name")
			f := t.s.field(name)
			if !t.s.generic && (f == nil || f.ro) {
				return nil, errUnknownParam()
			}
			if f != nil {
				name = f.name
			}
			n.unset(name)
		default:
			for _, a := range q.args {
				if a.Key == "numbers" || a.Key == ".id" || a.Key == "number" {
					continue
				}
				k, v, err := r.normalizeArg(t, a.Key, a.Value)
				if err != nil {
					return nil, err
				}
				r.noteGiven(n, k, a.Value, v)
				if k == "private-key" && t.s.menu == "/interface wireguard" {
					if _, err := wgtypes.ParseKey(v); err != nil {
						return nil, trap(1, "invalid private key")
					}
				}
				n.set(k, v)
			}
			if _, ok := q.get("network"); t.s.menu == "/ip address" && !ok {
				if _, ok := q.get("address"); ok {
					n.unset("network") // derived from the new address in check
				}
			}
		}
		if it.dynamic && t.s.ordered {
			return nil, trap(-1, "failure: can not change dynamic item")
		}
		if err := r.check(t, n, it); err != nil {
			return nil, err
		}
		changes = append(changes, change{it, n})
	}
	for _, c := range changes {
		c.old.props, c.old.order, c.old.given = c.neu.props, c.neu.order, c.neu.given
	}
	if t.s.menu == "/system clock" {
		if err := r.setClock(t.items[0]); err != nil {
			return nil, err
		}
		r.touched("/system scheduler")
	}
	r.touched(t.s.menu)
	return &reply{}, nil
}

// setClock applies /system clock set date= time= to the simulated clock;
// the values are not kept as properties (print shows the running clock).
func (r *Router) setClock(it *item) error {
	now := r.clk.now()
	d, tm := it.props["date"], it.props["time"]
	it.unset("date")
	it.unset("time")
	if d == "" && tm == "" {
		return nil
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	if d != "" {
		nd, err := r.parseDateInput(d)
		if err != nil {
			return trap(1, "invalid value for argument date")
		}
		day = time.Date(nd.Year(), nd.Month(), nd.Day(), 0, 0, 0, 0, now.Location())
	}
	off := now.Sub(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location()))
	if tm != "" {
		o, err := parseClock(tm)
		if err != nil {
			return trap(1, "invalid value for argument time")
		}
		off = o
	}
	r.clk.set(day.Add(off))
	return nil
}

func (r *Router) remove(t *table, q *request) (*reply, error) {
	items, err := r.resolve(t, q)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.builtin {
			return nil, trap(-1, "failure: can not remove builtin item")
		}
		if it.dynamic && it.expires.IsZero() {
			// Entries with a timeout may be removed early; other dynamic items not.
			return nil, trap(-1, "failure: can not remove dynamic item")
		}
		if err := r.inUse(t, it); err != nil {
			return nil, err
		}
	}
	for _, it := range items {
		if i, _ := t.byID(it.id); i >= 0 {
			t.items = append(t.items[:i], t.items[i+1:]...)
		}
	}
	r.touched(t.s.menu)
	return &reply{}, nil
}

// inUse refuses to remove what other items refer to, as RouterOS does for
// interfaces with addresses and groups with users.
func (r *Router) inUse(t *table, it *item) error {
	switch t.s.menu {
	case "/user group":
		for _, u := range r.st.tables["/user"].items {
			if u.props["group"] == it.props["name"] {
				return trap(-1, "failure: group is used by some user")
			}
		}
	case "/user":
		if it.props["name"] == r.o.User {
			return nil
		}
	}
	return nil
}

func (r *Router) move(t *table, q *request) (*reply, error) {
	items, err := r.resolve(t, q)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.dynamic {
			return nil, errBuiltin()
		}
	}
	moving := map[*item]bool{}
	for _, it := range items {
		moving[it] = true
	}
	var dest *item
	if d, ok := q.get("destination"); ok && d != "" {
		if dest = r.findOne(t, d); dest == nil {
			return nil, errNoSuchItem()
		}
		if dest.dynamic {
			return nil, errBuiltin()
		}
	}
	var rest []*item
	for _, it := range t.items {
		if !moving[it] {
			rest = append(rest, it)
		}
	}
	idx := len(rest)
	if dest != nil {
		for i, it := range rest {
			if it == dest {
				idx = i
			}
		}
		if moving[dest] {
			// Moving an item before itself: keep it where the first of the group is.
			idx = 0
			for _, it := range t.items {
				if it == dest {
					break
				}
				if !moving[it] {
					idx++
				}
			}
		}
	}
	out := append([]*item{}, rest[:idx]...)
	out = append(out, items...)
	out = append(out, rest[idx:]...)
	t.items = out
	r.touched(t.s.menu)
	return &reply{}, nil
}

func (r *Router) getValue(t *table, q *request) (*reply, error) {
	name, _ := q.get("value-name")
	var it *item
	if t.s.kind == kindSingle {
		if len(t.items) > 0 {
			it = t.items[0]
		}
	} else {
		items, err := r.resolve(t, q)
		if err != nil {
			return nil, err
		}
		it = items[0]
	}
	if it == nil {
		return nil, errNoSuchItem()
	}
	for _, a := range r.row(t, it) {
		if a.Key == name {
			return &reply{ret: a.Value, hasRet: true}, nil
		}
	}
	return nil, errUnknownParam()
}
