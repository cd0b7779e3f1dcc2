package vpn

import (
	"strings"
	"testing"
)

// Every name QuickFileName gives is one wg-quick takes as it is, stable,
// and distinct for distinct long stems.
func TestQuickFileName(t *testing.T) {
	for _, tt := range []struct{ stem, want string }{
		{"wgboot-e2e", "wgboot-e2e.conf"},
		{"wgboot-0123abcd", "wgboot-0123abcd.conf"}, // 15: as it is
		{"alice", "alice.conf"},
		{"", ""},
		{"wgboot-0123456789abcdef0123456789abcdef", ""},
		{"a-very-long-device-name-for-bob", ""},
		{"wän phone", ""},
	} {
		got := QuickFileName(tt.stem)
		if !ValidQuickFileName(got) {
			t.Errorf("QuickFileName(%q) = %q: wg-quick refuses it", tt.stem, got)
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("QuickFileName(%q) = %q, want %q", tt.stem, got, tt.want)
		}
		if again := QuickFileName(tt.stem); again != got {
			t.Errorf("QuickFileName(%q) not stable: %q then %q", tt.stem, got, again)
		}
	}
	a, b := QuickFileName("a-very-long-device-name-for-bob"), QuickFileName("a-very-long-device-name-for-ann")
	if a == b {
		t.Errorf("two long stems share %q", a)
	}
	if strings.Contains(QuickFileName("wän phone"), " ") {
		t.Errorf("a space survived")
	}
}

func FuzzQuickFileName(f *testing.F) {
	for _, s := range []string{"wgboot-e2e", "", "a b", "wgboot-0123456789abcdef0123456789abcdef", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stem string) {
		if got := QuickFileName(stem); !ValidQuickFileName(got) {
			t.Fatalf("QuickFileName(%q) = %q: wg-quick refuses it", stem, got)
		}
	})
}
