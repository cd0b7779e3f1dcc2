package firewall

import (
	"slices"
	"strings"
)

// ValidationError is a rule value RouterOS refuses on add or set. Its
// Error text is the message of the router's !trap, so a simulator can send
// it unchanged.
type ValidationError struct {
	Property string // the offending property, "" for whole-rule checks
	Message  string // RouterOS trap text
}

func (e *ValidationError) Error() string { return e.Message }

// actionsByTable lists the actions RouterOS v7 offers in each firewall menu.
var actionsByTable = map[string][]string{
	"filter": {"accept", "add-dst-to-address-list", "add-src-to-address-list", "drop",
		"fasttrack-connection", "jump", "log", "passthrough", "reject", "return", "tarpit"},
	"nat": {"accept", "add-dst-to-address-list", "add-src-to-address-list", "dst-nat",
		"endpoint-independent-nat", "jump", "log", "masquerade", "netmap", "passthrough",
		"redirect", "return", "same", "src-nat"},
	"raw": {"accept", "add-dst-to-address-list", "add-src-to-address-list", "drop", "jump",
		"log", "notrack", "passthrough", "return"},
}

// mangleActions are the actions of /ip firewall mangle (ValidateTableRule
// "mangle"); ValidateRule does not accept them for the other menus.
var mangleActions = []string{"accept", "add-dst-to-address-list", "add-src-to-address-list", "change-dscp",
	"change-mss", "change-ttl", "clear-df", "fasttrack-connection", "jump", "log",
	"mark-connection", "mark-packet", "mark-routing", "passthrough", "return", "route",
	"set-priority", "sniff-pc", "sniff-tzsp", "strip-ipv4-options"}

// ValidateRule checks values the way RouterOS does on add/set and returns an
// error whose text is the RouterOS trap message (e.g. "input does not match
// any value of protocol"). It accepts an action valid in any of filter, nat
// and raw; ValidateTableRule checks against one menu. Properties it does
// not know are not checked (the simulator decides about unknown parameters).
func ValidateRule(r Rule) error { return validate("", r) }

// ValidateTableRule is ValidateRule for one menu: table is "filter", "nat"
// or "raw" and restricts the actions to those that menu offers (RouterOS
// answers "input does not match any value of action" for action=drop in nat).
func ValidateTableRule(table string, r Rule) error { return validate(table, r) }

func invalid(prop string) error {
	return &ValidationError{Property: prop, Message: "invalid value for argument " + prop}
}

func noValue(prop string) error {
	return &ValidationError{Property: prop, Message: "input does not match any value of " + prop}
}

// badRange is RouterOS's answer to an address property that is not an
// address, prefix or range (measured on a CHR by several API clients).
func badRange(prop string) error {
	return &ValidationError{Property: prop, Message: "value of range expects range of ip addresses"}
}

// validatePorts tells a port number above 65535 (RouterOS: "value of range
// out of range (0..65535)") from other syntax errors.
func validatePorts(k, v string) error {
	if _, err := parsePortList(v); err == nil {
		return nil
	}
	for part := range strings.SplitSeq(v, ",") {
		for p := range strings.SplitSeq(part, "-") {
			if len(p) > 0 && strings.Trim(p, "0123456789") == "" {
				if _, err := parsePort(p); err != nil {
					return &ValidationError{Property: k, Message: "value of range out of range (0..65535)"}
				}
			}
		}
	}
	return invalid(k)
}

func validate(table string, r Rule) error {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	// RouterOS reports the first bad argument; sorting makes "first" stable.
	slices.Sort(keys)
	for _, k := range keys {
		if err := validateValue(table, k, r[k]); err != nil {
			return err
		}
	}

	if r["chain"] == "" {
		return &ValidationError{Property: "chain", Message: "missing value(s) of argument(s) chain"}
	}
	if r["action"] == "jump" && r["jump-target"] == "" {
		return &ValidationError{Property: "jump-target", Message: "failure: no target chain specified"}
	}
	for _, k := range []string{"src-port", "dst-port", "port"} {
		if r[k] == "" {
			continue
		}
		_, p := splitNeg(r["protocol"])
		n, _ := parseProtocol(p)
		if !hasPorts(n) {
			return &ValidationError{Property: k, Message: "failure: ports can be specified if proto is tcp,udp,udp-lite,dccp,sctp"}
		}
	}
	return nil
}

// validateValue checks one property value as RouterOS does on add/set.
//
// Long because: one case per property with its RouterOS trap message, read
// side by side with the matcher in eval.go.
func validateValue(table, k, val string) error {
	n, v := splitNeg(val)
	switch k {
	case "action":
		if val == "" {
			return nil
		}
		if table != "" {
			list := actionsByTable[table]
			if table == "mangle" {
				list = mangleActions
			}
			if !slices.Contains(list, val) {
				return noValue(k)
			}
			return nil
		}
		for _, as := range actionsByTable {
			if slices.Contains(as, val) {
				return nil
			}
		}
		return noValue(k)
	case "chain", "jump-target":
		// User chains are created implicitly by using them; any name goes
		// except an empty or negated one.
		if n || strings.ContainsAny(val, " \t\n") {
			return noValue(k)
		}
	case "protocol":
		if _, ok := parseProtocol(v); !ok {
			return noValue(k)
		}
	case "src-port", "dst-port", "port", "to-ports":
		if k == "to-ports" && n {
			return invalid(k)
		}
		return validatePorts(k, v)
	case "src-address", "dst-address", "to-addresses":
		if k == "to-addresses" && n {
			return badRange(k)
		}
		if _, err := parseAddrSpec(v); err != nil {
			return badRange(k)
		}
	case "connection-state":
		for s := range strings.SplitSeq(v, ",") {
			if !slices.Contains([]string{"established", "related", "new", "invalid", "untracked"}, s) {
				return noValue(k)
			}
		}
	case "connection-nat-state":
		for s := range strings.SplitSeq(v, ",") {
			if s != "srcnat" && s != "dstnat" {
				return noValue(k)
			}
		}
	case "dst-address-type", "src-address-type":
		if val == "" {
			return nil // an export's dst-address-type="": no condition, as the evaluator reads it
		}
		for s := range strings.SplitSeq(v, ",") {
			if !slices.Contains([]string{"unicast", "local", "broadcast", "multicast", "blackhole", "prohibit", "unreachable"}, s) {
				return noValue(k)
			}
		}
	case "ipsec-policy":
		dir, pol, ok := strings.Cut(val, ",")
		if !ok || (dir != "in" && dir != "out") || (pol != "none" && pol != "ipsec") {
			return noValue(k)
		}
	case "disabled", "log":
		if _, ok := parseBool(val); !ok {
			return noValue(k)
		}
	case "src-address-list", "dst-address-list", "in-interface", "in-interface-list",
		"out-interface", "out-interface-list":
		if v == "" && n {
			return noValue(k)
		}
	}
	return nil
}
