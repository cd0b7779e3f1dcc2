// Package uapi parses the reply to a WireGuard UAPI "get" request (the
// key=value lines wireguard-go's IpcGet returns): the listen port and, per
// peer, the public key, endpoint, last handshake and byte counters. vpn
// (the technician's side) and routeros/sim/wgdev (the simulated router)
// both read their devices through it.
//
// The reply carries the private key (and preshared keys). Those lines are
// skipped unread, and no error ever quotes a value: an error names the line
// number and the key only, so it can be logged as it is.
package uapi

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// State is the part of a UAPI "get" reply wgboot reads.
type State struct {
	ListenPort int
	Peers      []Peer // in reply order
}

// Peer is one peer of a reply. Endpoint is as written (an IPv4-mapped
// address is not unmapped); LastHandshake is zero when the peer has had
// no handshake (both time fields 0 or absent).
type Peer struct {
	PublicKey     [32]byte
	Endpoint      netip.AddrPort
	LastHandshake time.Time
	Rx, Tx        uint64
}

// maxErrors bounds the line errors one Parse reports, so a reply that is
// garbage from end to end does not make a log line of megabytes.
const maxErrors = 8

// Parse reads a UAPI "get" reply. Blank lines and keys it does not read
// (private_key, preshared_key, allowed_ip, fwmark, errno, ...) are skipped.
// It goes on past a bad line and returns what it could read with every
// problem joined in the error: a non-empty line without '=', a malformed
// public key (that peer is dropped, and the lines up to the next
// public_key with it, so its figures are not credited to another peer), a
// malformed number or endpoint, a peer field before any public_key, a
// listen_port outside 0..65535.
//
// Long because: one case per key of the reply, each with its own check.
func Parse(text string) (State, error) {
	var st State
	var errs []error
	bad := func(line int, format string, args ...any) {
		if len(errs) < maxErrors {
			errs = append(errs, fmt.Errorf("line %d"+format, append([]any{line}, args...)...))
		}
	}
	var cur *Peer
	skipping := false // after a bad public_key: its lines belong to no peer
	var sec, nsec int64
	flush := func() {
		if cur != nil {
			if sec != 0 || nsec != 0 {
				cur.LastHandshake = time.Unix(sec, nsec)
			}
			st.Peers = append(st.Peers, *cur)
		}
		cur, sec, nsec = nil, 0, 0
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if s == "" {
			continue
		}
		key, value, ok := strings.Cut(s, "=")
		if !ok {
			bad(line, " has no '='")
			continue
		}
		var err error
		switch key {
		case "public_key":
			flush()
			k, kerr := parseKey(value)
			if kerr != nil {
				bad(line, ": bad public key")
				skipping = true
				continue
			}
			cur, skipping = &Peer{PublicKey: k}, false
			continue
		case "listen_port":
			if cur != nil || skipping {
				continue // not a peer key; wireguard-go writes it before the peers
			}
			if st.ListenPort, err = strconv.Atoi(value); err != nil || st.ListenPort < 0 || st.ListenPort > 65535 {
				st.ListenPort = 0
				bad(line, ": bad listen_port")
			}
			continue
		case "endpoint", "last_handshake_time_sec", "last_handshake_time_nsec", "rx_bytes", "tx_bytes":
		default:
			continue // device or peer lines this package does not read
		}
		if skipping {
			continue
		}
		if cur == nil {
			bad(line, ": %s before any public_key", key)
			continue
		}
		switch key {
		case "endpoint":
			cur.Endpoint, err = netip.ParseAddrPort(value)
		case "last_handshake_time_sec":
			sec, err = strconv.ParseInt(value, 10, 64)
		case "last_handshake_time_nsec":
			nsec, err = strconv.ParseInt(value, 10, 64)
		case "rx_bytes":
			cur.Rx, err = strconv.ParseUint(value, 10, 64)
		case "tx_bytes":
			cur.Tx, err = strconv.ParseUint(value, 10, 64)
		}
		if err != nil {
			// The strconv and netip errors quote the value: name the key only.
			bad(line, ": bad %s", key)
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		// bufio's errors (a line over 64 KiB) quote nothing of the text.
		errs = append(errs, fmt.Errorf("after line %d: %w", line, err))
	}
	if len(errs) > 0 {
		return st, fmt.Errorf("uapi: %w", errors.Join(errs...))
	}
	return st, nil
}

// parseKey reads a key in UAPI form: 64 hex digits.
func parseKey(v string) ([32]byte, error) {
	var k [32]byte
	if len(v) != 2*len(k) {
		return k, errors.New("not 64 hex digits")
	}
	if _, err := hex.Decode(k[:], []byte(v)); err != nil {
		return [32]byte{}, errors.New("not 64 hex digits")
	}
	return k, nil
}
