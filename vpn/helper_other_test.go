//go:build !linux

package vpn

import "errors"

// runDelLink needs rtnetlink, which only Linux has.
func runDelLink(name string) error { return errors.New("dellink: Linux only") }
