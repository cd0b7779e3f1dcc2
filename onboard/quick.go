package onboard

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// quickConf is what wgboot reads back from a wg-quick file it wrote.
type quickConf struct {
	PrivateKey wgtypes.Key
	Address    netip.Prefix
	PeerKey    wgtypes.Key
	AllowedIPs []netip.Prefix
	Endpoint   string
}

// parseQuick reads the keys and addresses of a wg-quick file (one
// [Interface], one [Peer]). Errors never quote a key line.
func parseQuick(text string) (*quickConf, error) {
	var q quickConf
	section := ""
	var haveKey, havePeer bool
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.ToLower(line[1 : len(line)-1])
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("onboard: wg-quick line %d: no '='", n+1)
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		var err error
		switch section + "." + k {
		case "interface.privatekey":
			q.PrivateKey, err = wgtypes.ParseKey(v)
			haveKey = err == nil
			if err != nil {
				return nil, fmt.Errorf("onboard: wg-quick line %d: bad private key", n+1)
			}
		case "interface.address":
			q.Address, err = netip.ParsePrefix(strings.TrimSpace(strings.Split(v, ",")[0]))
		case "peer.publickey":
			q.PeerKey, err = wgtypes.ParseKey(v)
			havePeer = err == nil
		case "peer.allowedips":
			for _, f := range strings.Split(v, ",") {
				p, perr := netip.ParsePrefix(strings.TrimSpace(f))
				if perr != nil {
					err = perr
					break
				}
				q.AllowedIPs = append(q.AllowedIPs, p)
			}
		case "peer.endpoint":
			q.Endpoint = v
		}
		if err != nil {
			return nil, fmt.Errorf("onboard: wg-quick line %d (%s): %w", n+1, k, err)
		}
	}
	if !haveKey || !havePeer || !q.Address.IsValid() {
		return nil, fmt.Errorf("onboard: wg-quick file lacks PrivateKey, Address or the peer's PublicKey")
	}
	return &q, nil
}
