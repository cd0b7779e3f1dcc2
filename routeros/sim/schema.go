package sim

import (
	"strconv"
	"strings"
)

// ftype is how a property's value is checked and normalised.
type ftype int

const (
	tStr     ftype = iota
	tBool          // yes/no/true/false, stored as true/false
	tInt           // decimal, range checked
	tDur           // RouterOS duration, stored normalised
	tEnum          // one of field.enum
	tIface         // name of an existing interface
	tIList         // name of an existing interface list (built-in ones included)
	tPrefix        // address with optional /len
	tAddr          // a single address
	tWGIface       // name of an existing wireguard interface
	tBridge        // name of an existing bridge
	tGroup         // name of an existing /user group
)

type field struct {
	name   string
	typ    ftype
	def    string
	hasDef bool
	ro     bool // read-only: refused on add/set, computed or set by the simulator
	enum   []string
	min    int64
	max    int64
}

type menuKind int

const (
	kindList   menuKind = iota // add/remove
	kindSingle                 // one item, set without numbers
	kindFixed                  // fixed items, set by name, no add/remove
)

type uniq struct {
	props []string
	msg   string
}

// schema describes one menu: what may be set, defaults, checks.
type schema struct {
	menu     string // "/ip firewall filter"
	kind     menuKind
	fields   []*field
	byName   map[string]*field
	required []string
	unique   []uniq
	key      string // property that names an item in numbers= ("name"), "" if none
	ordered  bool   // move and place-before
	flags    []string
	ifType   string // interface type for /interface aggregation ("ether", "wg", ...)
	generic  bool   // not modelled: any property allowed, exported as loaded
	readOnly bool   // print only
	aliases  map[string]string
}

// newSchema builds a schema from a compact field list: each token is
// "[^]name[:type][=default]"; ^ marks read-only; type is bool, int(a-b), dur,
// iface, ilist, prefix, addr, wg, bridge, group, or enum(a|b|c).
func newSchema(menu string, kind menuKind, spec string) *schema {
	s := &schema{menu: menu, kind: kind, byName: map[string]*field{}}
	for _, tok := range strings.Fields(spec) {
		f := &field{}
		if strings.HasPrefix(tok, "^") {
			f.ro = true
			tok = tok[1:]
		}
		if i := strings.IndexByte(tok, '='); i >= 0 {
			f.def, f.hasDef = tok[i+1:], true
			tok = tok[:i]
		}
		typ := ""
		if i := strings.IndexByte(tok, ':'); i >= 0 {
			typ = tok[i+1:]
			tok = tok[:i]
		}
		f.name = tok
		switch {
		case typ == "":
		case typ == "bool":
			f.typ = tBool
		case strings.HasPrefix(typ, "int"):
			f.typ, f.min, f.max = tInt, 0, 4294967295
			if r := strings.TrimSuffix(strings.TrimPrefix(typ, "int("), ")"); r != typ && r != "" {
				lo, hi, _ := strings.Cut(r, "-")
				f.min, _ = strconv.ParseInt(lo, 10, 64)
				f.max, _ = strconv.ParseInt(hi, 10, 64)
			}
		case typ == "dur":
			f.typ = tDur
		case typ == "iface":
			f.typ = tIface
		case typ == "ilist":
			f.typ = tIList
		case typ == "prefix":
			f.typ = tPrefix
		case typ == "addr":
			f.typ = tAddr
		case typ == "wg":
			f.typ = tWGIface
		case typ == "bridge":
			f.typ = tBridge
		case typ == "group":
			f.typ = tGroup
		case strings.HasPrefix(typ, "enum("):
			f.typ = tEnum
			f.enum = strings.Split(strings.TrimSuffix(strings.TrimPrefix(typ, "enum("), ")"), "|")
		default:
			panic("sim: bad field type " + typ)
		}
		s.fields = append(s.fields, f)
		s.byName[f.name] = f
	}
	return s
}

func (s *schema) field(name string) *field {
	if s.aliases != nil {
		if n, ok := s.aliases[name]; ok {
			name = n
		}
	}
	return s.byName[name]
}

// defaultOf returns the default of prop and whether it has one.
func (s *schema) defaultOf(prop string) (string, bool) {
	if f := s.byName[prop]; f != nil && f.hasDef {
		return f.def, true
	}
	return "", false
}

const firewallFields = `chain action=accept protocol src-address dst-address src-port dst-port port
 in-interface out-interface in-interface-list out-interface-list src-address-list dst-address-list
 src-address-type dst-address-type connection-state connection-nat-state connection-mark packet-mark
 routing-mark new-connection-mark new-packet-mark new-routing-mark passthrough connection-type
 ipsec-policy limit dst-limit connection-limit connection-rate tcp-flags tcp-mss icmp-options
 jump-target reject-with address-list address-list-timeout to-addresses to-ports hw-offload:bool
 src-mac-address content layer7-protocol nth ttl packet-size per-connection-classifier psd random
 fragment:bool hotspot dscp priority time in-bridge-port out-bridge-port ingress-priority
 log:bool=false log-prefix= comment disabled:bool=false ^bytes ^packets ^dynamic:bool=false ^invalid:bool=false`

// schemas returns the modelled menus for an emulated version.
//
// Long because: it is the table of modelled menus, one line or two each.
func schemas(version string) map[string]*schema {
	m := map[string]*schema{}
	add := func(s *schema) *schema { m[s.menu] = s; return s }

	add(newSchema("/system identity", kindSingle, "name=MikroTik"))
	s := add(newSchema("/system resource", kindSingle, "^uptime ^version ^build-time ^factory-software ^free-memory ^total-memory ^cpu ^cpu-count ^cpu-frequency ^cpu-load ^free-hdd-space ^total-hdd-space ^architecture-name ^board-name ^platform"))
	s.readOnly = true
	s = add(newSchema("/system routerboard", kindSingle, "^routerboard:bool=true ^board-name ^model ^serial-number ^firmware-type ^factory-firmware ^current-firmware ^upgrade-firmware"))
	s.readOnly = true
	s = add(newSchema("/system package", kindFixed, "^name ^version ^build-time ^size ^disabled:bool=false"))
	s.readOnly = true
	add(newSchema("/system clock", kindSingle, "time date time-zone-autodetect:bool=true time-zone-name=manual ^gmt-offset ^dst-active:bool=false"))
	s = add(newSchema("/system scheduler", kindList, "name start-date start-time interval:dur=0s on-event= policy=ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon comment disabled:bool=false ^owner ^next-run ^run-count"))
	s.key, s.required = "name", []string{"name"}
	s.unique = []uniq{{[]string{"name"}, "failure: item with such name already exists"}}
	s = add(newSchema("/system script", kindList, "name source= policy=ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon dont-require-permissions:bool=false comment ^owner ^run-count ^last-started ^invalid:bool=false"))
	s.key, s.required = "name", []string{"name"}
	s.unique = []uniq{{[]string{"name"}, "failure: item with such name already exists"}}
	add(newSchema("/system note", kindSingle, "note= show-at-login:bool=true"))

	// /interface is an aggregate view, built from the typed menus below.
	s = add(newSchema("/interface", kindList, "name ^default-name ^type mtu l2mtu comment disabled:bool=false ^running:bool ^dynamic:bool=false ^actual-mtu ^mac-address"))
	s.key = "name"
	s = add(newSchema("/interface ethernet", kindFixed, "name ^default-name mtu:int(0-65535)=1500 l2mtu:int(0-65535)=1598 arp=enabled mac-address comment disabled:bool=false ^running:bool ^orig-mac-address"))
	s.key, s.ifType = "name", "ether"
	s = add(newSchema("/interface bridge", kindList, "name mtu=auto protocol-mode=rstp vlan-filtering:bool=false admin-mac auto-mac:bool=true arp=enabled igmp-snooping:bool=false fast-forward:bool=true ingress-filtering:bool=true frame-types=admit-all pvid:int(1-4094)=1 comment disabled:bool=false ^running:bool ^l2mtu ^mac-address"))
	s.key, s.ifType = "name", "bridge"
	s = add(newSchema("/interface bridge port", kindList, "bridge:bridge interface:iface pvid:int(1-4094)=1 frame-types=admit-all ingress-filtering:bool=true hw:bool=true edge=auto horizon=none trusted:bool=false comment disabled:bool=false ^dynamic:bool=false ^inactive:bool=false"))
	s.required = []string{"bridge", "interface"}
	s.unique = []uniq{{[]string{"interface"}, "failure: device already added as bridge port"}}
	s = add(newSchema("/interface bridge vlan", kindList, "bridge:bridge vlan-ids tagged untagged comment disabled:bool=false ^dynamic:bool=false"))
	s.required = []string{"bridge", "vlan-ids"}
	s = add(newSchema("/interface vlan", kindList, "name vlan-id:int(1-4094) interface:iface mtu:int(0-65535)=1500 arp=enabled use-service-tag:bool=false comment disabled:bool=false ^running:bool ^l2mtu ^mac-address"))
	s.key, s.ifType, s.required = "name", "vlan", []string{"vlan-id", "interface"}
	s = add(newSchema("/interface pppoe-client", kindList, "name interface:iface user password service-name= ac-name= add-default-route:bool=false default-route-distance:int(0-255)=1 use-peer-dns:bool=false dial-on-demand:bool=false keepalive-timeout=10 max-mtu=auto max-mru=auto profile=default allow=pap,chap,mschap1,mschap2 comment disabled:bool=true ^running:bool"))
	s.key, s.ifType, s.required = "name", "pppoe-out", []string{"interface"}
	s = add(newSchema("/interface wireguard", kindList, "name listen-port:int(1-65535)=13231 mtu:int(0-65535)=1420 private-key ^public-key comment disabled:bool=false ^running:bool"))
	s.key, s.ifType = "name", "wg"
	s = add(newSchema("/interface wireguard peers", kindList, "name interface:wg public-key allowed-address endpoint-address= endpoint-port:int(0-65535)=0 persistent-keepalive:dur=0s preshared-key= private-key= responder:bool=false is-responder:bool comment disabled:bool=false ^current-endpoint-address ^current-endpoint-port ^last-handshake ^rx ^tx ^dynamic:bool=false"))
	s.required = []string{"interface", "public-key"}
	s.unique = []uniq{{[]string{"interface", "public-key"}, "failure: peer with such public key already exists"}}
	if versionAtLeast(version, "7.15") {
		s.key = "name"
	}
	s = add(newSchema("/interface list", kindList, "name include= exclude= comment ^builtin:bool=false ^dynamic:bool=false"))
	s.key, s.required = "name", []string{"name"}
	s.unique = []uniq{{[]string{"name"}, "failure: list with such name already exists"}}
	s = add(newSchema("/interface list member", kindList, "list:ilist interface:iface comment disabled:bool=false ^dynamic:bool=false"))
	s.required = []string{"list", "interface"}
	s.unique = []uniq{{[]string{"list", "interface"}, "failure: already have such entry"}}

	s = add(newSchema("/ip address", kindList, "address:prefix network interface:iface comment disabled:bool=false ^actual-interface ^dynamic:bool=false ^invalid:bool=false"))
	s.required = []string{"address", "interface"}
	s.unique = []uniq{{[]string{"address", "interface"}, "failure: already have such address"}}
	add(newSchema("/ip route", kindList, "dst-address=0.0.0.0/0 gateway distance:int(1-255)=1 routing-table=main scope:int(0-255)=30 target-scope:int(0-255)=10 check-gateway suppress-hw-offload:bool=false pref-src vrf-interface comment disabled:bool=false ^dynamic:bool=false ^active:bool ^static:bool ^immediate-gw"))
	for _, t := range []string{"filter", "nat", "raw", "mangle"} {
		s = add(newSchema("/ip firewall "+t, kindList, firewallFields))
		s.required, s.ordered = []string{"chain"}, true
		s.flags = []string{"dynamic", "invalid", "disabled"}
	}
	s = add(newSchema("/ip firewall address-list", kindList, "list address timeout:dur comment disabled:bool=false ^dynamic:bool=false ^creation-time"))
	s.required = []string{"list", "address"}
	s.unique = []uniq{{[]string{"list", "address"}, "failure: already have such entry"}}
	s = add(newSchema("/ipv6 address", kindList, "address interface:iface advertise:bool=true eui-64:bool=false from-pool no-dad:bool=false comment disabled:bool=false ^actual-interface ^dynamic:bool=false ^invalid:bool=false ^link-local:bool=false"))
	s.required = []string{"address", "interface"}
	s.unique = []uniq{{[]string{"address", "interface"}, "failure: already have such address"}}
	s = add(newSchema("/ipv6 firewall filter", kindList, firewallFields+" hop-limit headers"))
	s.required, s.ordered = []string{"chain"}, true
	s = add(newSchema("/ipv6 firewall address-list", kindList, "list address timeout:dur comment disabled:bool=false ^dynamic:bool=false ^creation-time"))
	s.required = []string{"list", "address"}
	s.unique = []uniq{{[]string{"list", "address"}, "failure: already have such entry"}}

	s = add(newSchema("/user", kindList, "name group:group address= password comment disabled:bool=false ^last-logged-in ^expired:bool=false"))
	s.key, s.required = "name", []string{"name", "group"}
	s.unique = []uniq{{[]string{"name"}, "failure: user with the same name already exists"}}
	s = add(newSchema("/user group", kindList, "name policy skin=default comment"))
	s.key, s.required = "name", []string{"name"}
	s.unique = []uniq{{[]string{"name"}, "failure: group with the same name already exists"}}

	svc := "^name port:int(1-65535) address= disabled:bool=false certificate=none tls-version=any vrf=main max-sessions:int(1-1000)=20 ^invalid:bool=false ^dynamic:bool=false"
	s = add(newSchema("/ip service", kindFixed, svc))
	s.key = "name"
	if versionAtLeast(version, "7.19") {
		// 7.19 lists each open connection to a service as a dynamic entry
		// of the same name (reference §7; the shape is read from the CLI
		// reference's flags and read-only properties, unverified on hardware).
		svc += " ^builtin:bool=false ^connection:bool=false ^proto ^local ^remote"
		s = add(newSchema("/ip service", kindFixed, svc))
		s.key = "name"
	}
	if versionAtLeast(version, "7.24") {
		// 7.24 renamed the allowed-sources property (reference §7); old scripts still say address.
		s = add(newSchema("/ip service", kindFixed, strings.Replace(svc, "address=", "available-from=", 1)))
		s.key = "name"
		s.aliases = map[string]string{"address": "available-from"}
	}
	cloud := "ddns-enabled=false ddns-update-interval=none update-time:bool=true ^dns-name ^public-address ^public-address-ipv6 ^status ^warning back-to-home-vpn=revoked-and-disabled"
	if versionAtLeast(version, "7.17") {
		cloud = strings.Replace(cloud, "ddns-enabled=false", "ddns-enabled:enum(yes|auto)=auto", 1)
	} else {
		cloud = strings.Replace(cloud, "ddns-enabled=false", "ddns-enabled:bool=false", 1)
	}
	add(newSchema("/ip cloud", kindSingle, cloud))
	s = add(newSchema("/certificate", kindList, "name common-name country state locality organization unit subject-alt-name key-size=2048 days-valid:int(1-36500)=365 key-usage trusted:bool=false ^fingerprint ^private-key:bool=false ^invalid-before ^invalid-after ^issued:bool=false ^serial-number ^ca:bool=false ^expired:bool=false"))
	s.key, s.required = "name", []string{"name", "common-name"}
	s.unique = []uniq{{[]string{"name"}, "failure: certificate with the same name already exists"}}
	s = add(newSchema("/file", kindList, "name contents type:enum(file|directory) ^size ^creation-time ^last-modified"))
	s.key, s.required = "name", []string{"name"}
	s.unique = []uniq{{[]string{"name"}, "failure: file already exists"}}
	s = add(newSchema("/log", kindList, "^time ^topics ^message"))
	s.readOnly = true
	return m
}

// knownGeneric are menus every RouterOS has that rossim keeps as generic
// items: printable and editable, exported as loaded, with no effect.
var knownGeneric = map[string]menuKind{
	"/ip dns": kindSingle, "/ip dns static": kindList, "/ip pool": kindList, "/ip dhcp-server": kindList,
	"/ip dhcp-server network": kindList, "/ip dhcp-server lease": kindList, "/ip dhcp-client": kindList,
	"/ip neighbor discovery-settings": kindSingle, "/ip settings": kindSingle, "/ipv6 settings": kindSingle,
	"/system ntp client": kindSingle, "/system ntp client servers": kindList, "/system logging": kindList,
	"/tool mac-server": kindSingle, "/tool mac-server mac-winbox": kindSingle, "/tool romon": kindSingle,
	"/interface detect-internet": kindSingle, "/ip ssh": kindSingle, "/ip upnp": kindSingle,
	"/interface wifi": kindList, "/interface wireless": kindList, "/caps-man manager": kindSingle,
	"/ip hotspot": kindList, "/routing bgp connection": kindList, "/snmp": kindSingle,
	"/ip smb": kindSingle, "/ip proxy": kindSingle, "/ip socks": kindSingle, "/disk settings": kindSingle,
	"/interface ovpn-server server": kindSingle, "/ppp secret": kindList, "/ppp profile": kindList,
	"/queue simple": kindList, "/queue tree": kindList, "/queue type": kindList, "/ip ipsec policy": kindList,
	"/ip ipsec profile": kindList, "/ip ipsec peer": kindList, "/ip ipsec proposal": kindList,
	"/system routerboard settings": kindSingle, "/interface ethernet switch": kindList,
	"/ip firewall service-port": kindList, "/ip firewall connection tracking": kindSingle,
	"/ipv6 firewall raw": kindList, "/ipv6 firewall nat": kindList, "/ipv6 firewall mangle": kindList,
	"/ipv6 dhcp-client": kindList, "/ipv6 nd": kindList, "/ipv6 pool": kindList, "/ipv6 route": kindList,
	"/ipv6 dhcp-server": kindList, "/routing table": kindList, "/ip vrf": kindList, "/ip traffic-flow": kindSingle,
	"/system logging action": kindList, "/tool bandwidth-server": kindSingle, "/tool graphing interface": kindList,
	"/ip arp": kindList, "/system leds": kindList, "/system leds settings": kindSingle, "/interface lte": kindList,
	"/interface lte apn": kindList, "/interface wifi security": kindList, "/interface wifi configuration": kindList,
	"/interface wifi datapath": kindList, "/interface wifi provisioning": kindList, "/interface wifi capsman": kindSingle,
	"/interface wireless security-profiles": kindList, "/container": kindList, "/system upgrade": kindList,
	"/ip cloud advanced": kindSingle, "/system health": kindList, "/port": kindList, "/system console": kindList,
	"/user settings": kindSingle, "/user aaa": kindSingle, "/radius": kindList, "/system watchdog": kindSingle,
}
