package onboard

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSettingsValidate(t *testing.T) {
	long := strings.Repeat(strings.Repeat("a", 62)+".", 4) + "b" // 253 characters
	tests := []struct {
		name string
		s    Settings
		want string // substring of the error; "" for valid
	}{
		{name: "zero", s: Settings{}},
		{name: "all set", s: Settings{Subnet: "10.77.0.0/24", ListenPort: 13231, Endpoint: "wg.example.com", VerifyEndpoint: "192.168.88.1:13231",
			Local: "netstack", ConfirmTimeout: 5 * time.Minute}},
		{name: "subnet /30", s: Settings{Subnet: "192.168.200.0/30"}},
		{name: "subnet /16", s: Settings{Subnet: "172.20.0.0/16"}},
		{name: "subnet host bits", s: Settings{Subnet: "10.77.0.9/24"}},
		{name: "subnet /31", s: Settings{Subnet: "10.77.0.0/31"}, want: "--subnet 10.77.0.0/31: give a prefix from /16 to /30"},
		{name: "subnet /8", s: Settings{Subnet: "10.0.0.0/8"}, want: "from /16 to /30"},
		{name: "subnet public", s: Settings{Subnet: "203.0.113.0/24"}, want: "not a private range"},
		{name: "subnet CGNAT", s: Settings{Subnet: "100.64.0.0/24"}, want: "not a private range"},
		{name: "subnet IPv6", s: Settings{Subnet: "fd00::/64"}, want: "is not IPv4"},
		{name: "subnet junk", s: Settings{Subnet: "banana"}, want: `--subnet "banana" is not a prefix`},
		{name: "port negative", s: Settings{ListenPort: -5}, want: "--listen-port -5 is not a port number"},
		{name: "port too big", s: Settings{ListenPort: 70000}, want: "--listen-port 70000"},
		{name: "endpoint IPv4", s: Settings{Endpoint: "203.0.113.7"}},
		{name: "endpoint IPv4 port", s: Settings{Endpoint: "203.0.113.7:51820"}},
		{name: "endpoint IPv6", s: Settings{Endpoint: "2001:db8::7"}},
		{name: "endpoint IPv6 port", s: Settings{Endpoint: "[2001:db8::7]:51820"}},
		{name: "endpoint punycode", s: Settings{Endpoint: "wg.xn--exmple-cua.com"}},
		{name: "endpoint 253", s: Settings{Endpoint: long}},
		{name: "endpoint space", s: Settings{Endpoint: "wg example"}, want: "--endpoint \"wg example\": a host name has no spaces"},
		{name: "endpoint non-ASCII", s: Settings{Endpoint: "wg.exämple.com"}, want: "punycode"},
		{name: "endpoint too long", s: Settings{Endpoint: strings.Repeat("a", 300) + ".example"}, want: "308 characters long"},
		{name: "endpoint long label", s: Settings{Endpoint: strings.Repeat("a", 64) + ".example"}, want: "1 to 63 characters"},
		{name: "endpoint bad port", s: Settings{Endpoint: "wg.example.com:0"}, want: `port "0" is not 1..65535`},
		{name: "endpoint port text", s: Settings{Endpoint: "wg.example.com:http"}, want: "is not 1..65535"},
		{name: "endpoint hyphen", s: Settings{Endpoint: "-wg.example.com"}, want: "hyphen"},
		{name: "endpoint empty label", s: Settings{Endpoint: "wg..example"}, want: "1 to 63"},
		{name: "endpoint slash", s: Settings{Endpoint: "wg.example.com/24"}, want: "the character '/'"},
		{name: "endpoint zone", s: Settings{Endpoint: "[fe80::1%eth0]:13231"}, want: "--endpoint"},
		{name: "verify endpoint", s: Settings{VerifyEndpoint: "::bad::"}, want: "--verify-endpoint"},
		{name: "local", s: Settings{Local: "tun"}, want: "--local must be auto, kernel or netstack"},
		{name: "confirm short", s: Settings{ConfirmTimeout: 30 * time.Second}, want: "--confirm-timeout 30s is out of range: give 1m to 1h"},
		{name: "confirm long", s: Settings{ConfirmTimeout: 2 * time.Hour}, want: "1m to 1h"},
		{name: "confirm bounds", s: Settings{ConfirmTimeout: time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			got := ""
			if err != nil {
				got = err.Error()
				if !strings.HasPrefix(got, "onboard: ") {
					t.Errorf("error %q does not start with the package name", got)
				}
			}
			if tt.want == "" {
				if diff := cmp.Diff("", got); diff != "" {
					t.Errorf("Validate() (-want +got):\n%s", diff)
				}
				return
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("Validate() = %q, want it to say %q", got, tt.want)
			}
		})
	}
}

func TestValidateRouter(t *testing.T) {
	tests := []struct {
		router string
		want   string
	}{
		{"192.168.88.1", ""},
		{"192.168.88.1:8729", ""},
		{"router.example.com", ""},
		{"router.example.com:8728", ""},
		{"[2001:db8::1]:8729", ""},
		{"2001:db8::1", ""},
		{"", "no router given"},
		{"127.0.0.1:99999", `--router "127.0.0.1:99999": port "99999" is not 1..65535`},
		{"routér.invalid", "--router \"routér.invalid\": a host name with non-ASCII letters"},
		{strings.Repeat("a", 300) + ".example", "the most a DNS name can have is 253"},
		{"my router", "no spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.router, func(t *testing.T) {
			got := ""
			if err := ValidateRouter(tt.router); err != nil {
				got = err.Error()
			}
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("ValidateRouter(%q) = %q, want %q", tt.router, got, tt.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{name: "ok", o: Options{Router: "192.168.88.1", Settings: Settings{Subnet: "10.77.0.0/24"}}},
		{name: "no router", o: Options{}, want: "no router given"},
		{name: "both trusts", o: Options{Router: "r.example", Fingerprint: strings.Repeat("ab", 32), TOFU: true}, want: "exclude each other"},
		{name: "bad settings", o: Options{Router: "r.example", Settings: Settings{ListenPort: -1}}, want: "--listen-port -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := tt.o.Validate(); err != nil {
				got = err.Error()
			}
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConnectHint(t *testing.T) {
	dns := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "router.invalid", IsNotFound: true}}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "dns", err: dns, want: "check the router address: router.invalid does not resolve (a typo, or this computer's DNS does not know it); give its IP address or the right name in --router"},
		{name: "other", err: errors.New("x"), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Said with the command line's names, as cmd/wgboot says it.
			got := connectHint(tt.err).Text(func(s Setting) string { return "--" + string(s) })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("connectHint (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzValidate checks that the host checks never panic, that what they
// accept carries no space or non-ASCII byte (it goes into a wg-quick file
// verbatim) and that accepted names fit DNS.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"wg.example.com", "203.0.113.7:13231", "[2001:db8::1]:1", "::bad::", "wg example", "wg.exämple.com",
		"a:b:c", "[x]:1", "host:", ":1", "[::1", "10.77.0.0/24", "", strings.Repeat("a.", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		err := Settings{Endpoint: v}.Validate()
		if err == nil && v != "" {
			if strings.ContainsAny(v, " \t\n\r/") {
				t.Errorf("accepted %q", v)
			}
			for i := 0; i < len(v); i++ {
				if v[i] > 0x7e || v[i] < 0x21 {
					t.Errorf("accepted %q with byte %#x", v, v[i])
				}
			}
			if len(v) > 253+1+5+2 {
				t.Errorf("accepted %d characters", len(v))
			}
		}
		_ = ValidateRouter(v)
		_ = Settings{Subnet: v}.Validate()
	})
}
