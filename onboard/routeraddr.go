package onboard

import (
	"errors"
	"net"
	"strings"
)

// RouterAddr is the one reading of a router's API address, for --router
// and for a fleet inventory's address: HOST, HOST:PORT, an IPv4 or IPv6
// address, or [IPv6]:PORT. It returns the host (IPv6 without brackets) and
// the host:port to dial, with the API's port (8729 for api-ssl, 8728 when
// plain) when none is given. The spelling is kept (no lower-casing, a
// trailing dot stays). A refused address gets an error saying what is
// wrong with it, for the caller to name the field it came from.
func RouterAddr(router string, plain bool) (host, addr string, err error) {
	if err := checkRouter(router); err != nil {
		return "", "", err
	}
	port := "8729"
	if plain {
		port = "8728"
	}
	host, p, err := net.SplitHostPort(router)
	if err != nil {
		host, p = strings.Trim(router, "[]"), port
	}
	return host, net.JoinHostPort(host, p), nil
}

// checkRouter is checkHostPort with one more refusal: a ':' with no port
// after it, which the engine would otherwise dial as port 0.
func checkRouter(v string) error {
	if err := checkHostPort(v); err != nil {
		return err
	}
	if _, p, err := net.SplitHostPort(v); err == nil && p == "" {
		return errors.New("no port after ':': give HOST or HOST:PORT")
	}
	return nil
}
