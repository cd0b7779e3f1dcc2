package vpn

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// quickName is what wg-quick takes as an interface name, which it reads
// from the file name: at most 15 characters (Linux's IFNAMSIZ less one)
// of [a-zA-Z0-9_=+.-]. A config file whose name breaks this is refused by
// `wg-quick up FILE` and useless to the technician.
var quickName = regexp.MustCompile(`^[a-zA-Z0-9_=+.-]{1,15}$`)

// ValidQuickFileName reports whether wg-quick accepts name (NAME.conf) as
// it is.
func ValidQuickFileName(name string) bool {
	base, ok := strings.CutSuffix(name, ".conf")
	return ok && quickName.MatchString(base)
}

// QuickFileName is a wg-quick file name for stem: stem.conf when wg-quick
// takes stem as it is; else its first 10 characters with every other byte
// made a dash, a dash and 4 hex digits of a hash of the whole stem (so two
// long stems with one start get different names, the same stem the same
// name in every run).
func QuickFileName(stem string) string {
	if quickName.MatchString(stem) {
		return stem + ".conf"
	}
	b := []byte(stem)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_=+.-", c) >= 0) {
			b[i] = '-'
		}
	}
	if len(b) > 10 {
		b = b[:10]
	}
	sum := sha256.Sum256([]byte(stem))
	return string(b) + "-" + hex.EncodeToString(sum[:2]) + ".conf"
}
