package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
	"unicode"

	"github.com/wgboot/wgboot/onboard"
	"gopkg.in/yaml.v3"
)

// Inventory is a parsed, checked inventory file.
//
//	pool: 10.77.0.0/16          # VPN subnets are carved from here
//	subnet_bits: 24             # size of each router's subnet (default 24)
//	defaults:                   # any router field; routers override
//	  user: admin
//	  tofu: true
//	routers:
//	  - address: 192.0.2.1      # host[:port], required
//	    fingerprint: 3f5a...    # api-ssl certificate SHA-256 (or tofu: true)
//	    password_env: PW_HQ     # variable holding the password (default WGBOOT_PASSWORD)
//	    subnet: 10.99.0.0/24    # optional: this router's subnet, outside the pool
type Inventory struct {
	Pool       netip.Prefix
	SubnetBits int
	Routers    []Router
}

// Router is one router of the inventory, defaults applied.
type Router struct {
	Address        string        `yaml:"address"`
	Name           string        `yaml:"name"` // label for the table; the config file is named by identity and address
	User           string        `yaml:"user"`
	PasswordEnv    string        `yaml:"password_env"`
	Fingerprint    string        `yaml:"fingerprint"`
	TOFU           bool          `yaml:"tofu"`
	Plain          bool          `yaml:"plain"`
	Subnet         string        `yaml:"subnet"`
	ListenPort     int           `yaml:"listen_port"`
	Endpoint       string        `yaml:"endpoint"`
	VerifyEndpoint string        `yaml:"verify_endpoint"`
	ConfirmTimeout time.Duration `yaml:"confirm_timeout"`
	LANKeepsAPI    *bool         `yaml:"lan_keeps_api"`
	Local          string        `yaml:"local"` // local WireGuard peer: auto (default), kernel or netstack
}

type file struct {
	Pool       string   `yaml:"pool"`
	SubnetBits int      `yaml:"subnet_bits"`
	Defaults   Router   `yaml:"defaults"`
	Routers    []Router `yaml:"routers"`
}

// Limits that keep a hostile or mistaken file from costing much.
const (
	maxInventory = 1 << 20 // bytes
	maxRouters   = 4096
	maxField     = 253 // a DNS name's length
)

// Parse reads and checks an inventory. Errors name the router (by its
// position and address) and the field, and say what to write instead.
func Parse(r io.Reader) (*Inventory, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxInventory+1))
	if err != nil {
		return nil, fmt.Errorf("fleet: read the inventory: %w", err)
	}
	if len(b) > maxInventory {
		return nil, fmt.Errorf("fleet: the inventory is larger than %d bytes: split it", maxInventory)
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			//lint:ignore ST1005 the message ends with the YAML key to write, routers:
			return nil, errors.New("fleet: the inventory is empty: list the routers under routers:")
		}
		return nil, fmt.Errorf("fleet: the inventory is not valid YAML: %w", err)
	}
	if err := checkSchema(&doc); err != nil {
		return nil, err
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("fleet: the inventory is not valid YAML for wgboot: %w", err)
	}
	inv := &Inventory{SubnetBits: f.SubnetBits}
	if inv.SubnetBits == 0 {
		inv.SubnetBits = 24
	}
	if inv.SubnetBits < 16 || inv.SubnetBits > 30 {
		return nil, fmt.Errorf("fleet: subnet_bits %d: give a size between 16 and 30 (24 is usual)", f.SubnetBits)
	}
	pool := f.Pool
	if pool == "" {
		pool = "10.77.0.0/16"
	}
	p, err := netip.ParsePrefix(pool)
	if err != nil || !p.Addr().Is4() || p != p.Masked() {
		return nil, fmt.Errorf("fleet: pool %q is not an IPv4 network like 10.77.0.0/16", pool)
	}
	if p.Bits() > inv.SubnetBits {
		return nil, fmt.Errorf("fleet: pool %s is smaller than one /%d subnet: give a larger pool or a larger subnet_bits", p, inv.SubnetBits)
	}
	inv.Pool = p
	if len(f.Routers) == 0 {
		return nil, errors.New("fleet: no routers in the inventory: list them under routers: with an address each")
	}
	if len(f.Routers) > maxRouters {
		return nil, fmt.Errorf("fleet: %d routers: at most %d per inventory", len(f.Routers), maxRouters)
	}
	seen := map[string]int{}
	for i, r := range f.Routers {
		r = withDefaults(r, f.Defaults)
		where := fmt.Sprintf("router %d", i+1)
		if r.Address != "" {
			where += " (" + r.Address + ")"
		}
		if err := r.check(); err != nil {
			return nil, fmt.Errorf("fleet: %s: %w", where, err)
		}
		key := r.apiAddr()
		if j, ok := seen[key]; ok {
			return nil, fmt.Errorf("fleet: %s: the same router as router %d: list each router once", where, j+1)
		}
		seen[key] = i
		inv.Routers = append(inv.Routers, r)
	}
	return inv, nil
}

func withDefaults(r, d Router) Router {
	set := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	// A router's own fingerprint wins over a default tofu, and its own
	// tofu over a default fingerprint.
	if r.Fingerprint == "" && !r.TOFU {
		r.TOFU = d.TOFU
		r.Fingerprint = d.Fingerprint
	}
	set(&r.User, d.User)
	set(&r.PasswordEnv, d.PasswordEnv)
	set(&r.Endpoint, d.Endpoint)
	set(&r.VerifyEndpoint, d.VerifyEndpoint)
	set(&r.Local, d.Local)
	r.Plain = r.Plain || d.Plain
	if r.ListenPort == 0 {
		r.ListenPort = d.ListenPort
	}
	if r.ConfirmTimeout == 0 {
		r.ConfirmTimeout = d.ConfirmTimeout
	}
	if r.LANKeepsAPI == nil {
		r.LANKeepsAPI = d.LANKeepsAPI
	}
	if r.User == "" {
		r.User = "admin"
	}
	if r.Local == "" {
		r.Local = "auto"
	}
	if r.PasswordEnv == "" {
		r.PasswordEnv = "WGBOOT_PASSWORD"
	}
	if r.ConfirmTimeout == 0 {
		r.ConfirmTimeout = 5 * time.Minute
	}
	return r
}

// plainText reports whether s is printable ASCII without spaces: names and
// addresses go into file names, commands and configs.
func plainText(s string) bool {
	for _, c := range s {
		if c > unicode.MaxASCII || !unicode.IsPrint(c) || c == ' ' {
			return false
		}
	}
	return true
}

// check validates one inventory entry before anything is dialled.
//
// Long because: one plain check per field with its own message, in the order
// the inventory lists them.
func (r Router) check() error {
	fields := []struct{ name, v string }{{"address", r.Address}, {"name", r.Name}, {"user", r.User}, {"password_env", r.PasswordEnv},
		{"fingerprint", r.Fingerprint}, {"subnet", r.Subnet}, {"endpoint", r.Endpoint}, {"verify_endpoint", r.VerifyEndpoint}}
	for _, f := range fields {
		if len(f.v) > maxField {
			return fmt.Errorf("%s is %d characters long: at most %d", f.name, len(f.v), maxField)
		}
		if !plainText(f.v) {
			return fmt.Errorf("%s %q has spaces, control or non-ASCII characters: write it in plain ASCII (punycode for names)", f.name, f.v)
		}
	}
	if r.Address == "" {
		return errors.New("no address: give address: HOST[:PORT]")
	}
	// The engine's own reading: what it would refuse is refused here,
	// before any router of the fleet is touched.
	if _, _, err := onboard.RouterAddr(r.Address, r.Plain); err != nil {
		return fmt.Errorf("address %q: %w (give HOST or HOST:PORT, the port a number from 1 to 65535)", r.Address, err)
	}
	for _, c := range r.PasswordEnv {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return fmt.Errorf("password_env %q is not an environment variable name: name the variable that holds the password, never the password", r.PasswordEnv)
		}
	}
	if !r.Plain {
		switch {
		case r.Fingerprint != "" && r.TOFU:
			return errors.New("fingerprint and tofu: true exclude each other: keep one")
		case r.Fingerprint == "" && !r.TOFU:
			return errors.New("no fingerprint: give the api-ssl certificate's SHA-256 (fingerprint:), or tofu: true to trust it on first use")
		case r.Fingerprint != "" && !isHexFingerprint(r.Fingerprint):
			return fmt.Errorf("fingerprint %q is not a SHA-256 in hex (64 hex digits, colons allowed)", r.Fingerprint)
		}
	}
	if r.Subnet != "" {
		p, err := netip.ParsePrefix(r.Subnet)
		if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
			return fmt.Errorf("subnet %q is not an IPv4 network of /30 or larger like 10.99.0.0/24", r.Subnet)
		}
	}
	switch r.Local {
	case "auto", "kernel", "netstack":
	default:
		return fmt.Errorf("local %q: give auto, kernel or netstack", r.Local)
	}
	if r.ListenPort < 0 || r.ListenPort > 65535 {
		return fmt.Errorf("listen_port %d: give a UDP port from 1 to 65535, or leave it out", r.ListenPort)
	}
	if r.ConfirmTimeout < 30*time.Second {
		return fmt.Errorf("confirm_timeout %s is too short to verify the tunnel: give at least 30s", r.ConfirmTimeout)
	}
	return nil
}

func isHexFingerprint(s string) bool {
	s = strings.ReplaceAll(s, ":", "")
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// apiAddr is the router's host:port as the engine will dial it, so two
// spellings of one router are seen as the same.
// The host is lower-cased: DNS names are case-blind. Call it after check.
func (r Router) apiAddr() string {
	_, addr, _ := onboard.RouterAddr(r.Address, r.Plain)
	return strings.ToLower(addr)
}
