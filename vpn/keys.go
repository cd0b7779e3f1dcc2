package vpn

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// GenerateKey returns a new WireGuard private key from crypto/rand.
func GenerateKey() (wgtypes.Key, error) {
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("vpn: generate key: %w", err)
	}
	return k, nil
}

// WriteKeyFile stores a private key as wg(8) does (base64 and a newline)
// with mode 0600, under WriteQuick's rules: an existing file with another
// key is never replaced (the error wraps fs.ErrExist).
func WriteKeyFile(path string, k wgtypes.Key) error {
	return writeSecret(path, []byte(k.String()+"\n"))
}

// ReadKeyFile reads a key written by WriteKeyFile or `wg genkey`. It refuses
// a file that group or others may read, as the key may already have leaked.
func ReadKeyFile(path string) (wgtypes.Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("vpn: read key: %w", err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return wgtypes.Key{}, fmt.Errorf("vpn: key file %s has mode %#o, readable by others; chmod 600 it (and consider the key exposed)", path, m)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("vpn: read key: %w", err)
	}
	k, err := parseKeyFile(raw)
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("vpn: key file %s: %w", path, err)
	}
	return k, nil
}

// parseKeyFile parses base64 key text. Errors never quote the text.
func parseKeyFile(raw []byte) (wgtypes.Key, error) {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return wgtypes.Key{}, errors.New("empty")
	}
	k, err := wgtypes.ParseKey(string(s))
	if err != nil {
		return wgtypes.Key{}, errors.New("not a base64 WireGuard key (44 characters)")
	}
	return k, nil
}
