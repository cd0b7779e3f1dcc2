package vpn

import "net"

// runDelLink removes interface name with rtnetlink, as the kernel backend
// does with a WireGuard module link at Close (a path this machine, without
// the module, cannot reach otherwise).
func runDelLink(name string) error {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return err
	}
	nl, err := dialRTNL()
	if err != nil {
		return err
	}
	defer nl.Close()
	return nl.deleteLink(ifc.Index)
}
