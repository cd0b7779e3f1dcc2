package vpn

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// quickIgnored are wg-quick and wg keys that QuickConfig does not model and
// that do not change who the peer is; ParseQuick skips them.
var quickIgnored = map[string]bool{
	"fwmark": true, "table": true, "saveconfig": true,
	"preup": true, "postup": true, "predown": true, "postdown": true,
}

// quickKeyNames spells the keys wg-quick knows, for error messages.
var quickKeyNames = map[string]string{
	"privatekey": "PrivateKey", "address": "Address", "dns": "DNS", "listenport": "ListenPort", "mtu": "MTU",
	"publickey": "PublicKey", "presharedkey": "PresharedKey", "endpoint": "Endpoint", "allowedips": "AllowedIPs",
	"persistentkeepalive": "PersistentKeepalive", "fwmark": "FwMark", "table": "Table", "saveconfig": "SaveConfig",
	"preup": "PreUp", "postup": "PostUp", "predown": "PreDown", "postdown": "PostDown",
}

// ParseQuick reads a wg-quick(8) file with one [Peer], such as WriteQuick
// writes or a technician edited: keys are case-insensitive, '#' starts a
// comment, list values may be repeated or comma-separated. Keys that only
// matter to wg-quick (FwMark, Table, PostUp, ...) are skipped; anything that
// would change the tunnel and is not modelled (a second peer)
// is an error. Errors name the line and the key, never a value.
func ParseQuick(text []byte) (QuickConfig, error) {
	var q QuickConfig
	section, peers := "", 0
	sc := bufio.NewScanner(bytes.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.HasPrefix(s, "[") {
			switch strings.ToLower(s) {
			case "[interface]":
				section = "interface"
			case "[peer]":
				if peers++; peers > 1 {
					return QuickConfig{}, fmt.Errorf("vpn: wg-quick line %d: more than one [Peer]", line)
				}
				section = "peer"
			default:
				return QuickConfig{}, fmt.Errorf("vpn: wg-quick line %d: unknown section", line)
			}
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return QuickConfig{}, fmt.Errorf("vpn: wg-quick line %d: no '='", line)
		}
		key := strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if err := q.set(section, key, v); err != nil {
			// Only a known key name is quoted: a mangled line may hold a key.
			name, ok := quickKeyNames[key]
			if !ok {
				name = "unknown key"
			}
			return QuickConfig{}, fmt.Errorf("vpn: wg-quick line %d: %s: %w", line, name, err)
		}
	}
	if err := sc.Err(); err != nil {
		return QuickConfig{}, fmt.Errorf("vpn: read wg-quick file: %w", err)
	}
	if err := q.Validate(); err != nil {
		return QuickConfig{}, err
	}
	return q, nil
}

// errBadValue is deliberately vague: the value may be a key.
var errBadValue = fmt.Errorf("invalid value")

func (q *QuickConfig) set(section, key, v string) error {
	if quickIgnored[key] && section == "interface" {
		return nil
	}
	parseKey := func() (wgtypes.Key, error) {
		k, err := wgtypes.ParseKey(v)
		if err != nil {
			return k, errBadValue
		}
		return k, nil
	}
	var err error
	switch section + "." + key {
	case "interface.privatekey":
		q.Interface.PrivateKey, err = parseKey()
	case "interface.address":
		err = eachItem(v, func(s string) error {
			p, err := parsePrefixOrAddr(s)
			q.Interface.Address = append(q.Interface.Address, p)
			return err
		})
	case "interface.dns":
		return eachItem(v, func(s string) error {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return fmt.Errorf("only addresses are supported, not search domains")
			}
			q.Interface.DNS = append(q.Interface.DNS, a)
			return nil
		})
	case "interface.listenport":
		q.Interface.ListenPort, err = strconv.Atoi(v)
	case "interface.mtu":
		q.Interface.MTU, err = strconv.Atoi(v)
	case "peer.publickey":
		q.Peer.PublicKey, err = parseKey()
	case "peer.presharedkey":
		q.Peer.PresharedKey, err = parseKey()
	case "peer.endpoint":
		q.Peer.Endpoint = v
	case "peer.allowedips":
		err = eachItem(v, func(s string) error {
			p, err := parsePrefixOrAddr(s)
			q.Peer.AllowedIPs = append(q.Peer.AllowedIPs, p)
			return err
		})
	case "peer.persistentkeepalive":
		if v == "off" {
			q.Peer.PersistentKeepalive = 0
			return nil
		}
		var n int
		n, err = strconv.Atoi(v)
		q.Peer.PersistentKeepalive = time.Duration(n) * time.Second
	case "interface.", "peer.":
		return fmt.Errorf("empty key")
	default:
		if section == "" {
			return fmt.Errorf("key outside [Interface] and [Peer]")
		}
		return fmt.Errorf("not supported here")
	}
	if err != nil {
		return errBadValue
	}
	return nil
}

func eachItem(v string, f func(string) error) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if err := f(s); err != nil {
			return err
		}
	}
	return nil
}

// parsePrefixOrAddr accepts "10.77.0.2/24" and a bare address (a host route).
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
