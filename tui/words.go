package tui

import (
	"strings"

	"github.com/wgboot/wgboot/onboard"
)

// The engine's messages are written for the command line: they name flags
// (--subnet) and WGBOOT_PASSWORD. In the wizard the technician sets those
// values in fields, so its screens name the field instead, the
// diagnostics included (what is on screen is what the technician acts
// on). The most specific phrases come first.
var wizardWords = strings.NewReplacer(
	"rerun with a longer Confirm timeout", "run the wizard again with a longer Confirm timeout",
	"check the user name and the password in WGBOOT_PASSWORD", "check the User and Password fields on the Connect screen (esc goes back to them)",
	"the password (WGBOOT_PASSWORD)", "the password (the Password field)",
	"WGBOOT_PASSWORD", "the Password field",
	", or leave --subnet out to pick a free one", "",
	" or leave it out to pick a free one", "",
	"give one with --subnet", "give one in the VPN subnet field",
	"--subnet", "VPN subnet",
	", or leave it out for 13231 or the next free port", ", or leave it empty for 13231 or the next free port",
	"give one with --listen-port", "give one in the WireGuard listen port field",
	"--listen-port", "WireGuard listen port",
	"give the public name with --endpoint", "give the public name in the Published endpoint field (e on the Plan)",
	"give a reachable name with --endpoint", "give a reachable name in the Published endpoint field (e on the Plan)",
	"--endpoint", "Published endpoint",
	"rerun with a longer --confirm-timeout", "run the wizard again with a longer Confirm timeout (e on the Plan)",
	"--confirm-timeout", "Confirm timeout",
	"--local must be", "Local WireGuard must be",
	"give its IP address or the right name in --router", "give its IP address or the right name in the Router field",
	"--router", "Router",
	"or use --plain for port 8728", "or choose plain api (8728) as the API on the Connect screen",
	"choose the other API with --plain", "choose the other API on the Connect screen",
	"or use --plain on a network you trust", "or choose plain api on the Connect screen on a network you trust",
	"--plain", "plain api (Connect screen)",
)

// wizardText is s in the wizard's words.
func wizardText(s string) string { return wizardWords.Replace(s) }

// fieldName is a setting an engine hint names, as the wizard sets it.
func fieldName(s onboard.Setting) string {
	switch s {
	case onboard.SettingRouter:
		return "the Router field"
	case onboard.SettingUser:
		return "the User field"
	case onboard.SettingPassword:
		return "the Password field"
	case onboard.SettingPlain:
		return "plain api (Connect screen)"
	case onboard.SettingSubnet:
		return "the VPN subnet field"
	case onboard.SettingListenPort:
		return "the WireGuard listen port field"
	case onboard.SettingEndpoint:
		return "the Published endpoint field (e on the Plan)"
	case onboard.SettingConfirmTimeout:
		return "Confirm timeout (e on the Plan)"
	case onboard.SettingVerifyEndpoint:
		// No field: the wizard sends WireGuard packets to the router's
		// address; the headless command sets another.
		return "the verify endpoint of wgboot apply"
	}
	return s.String()
}

// wizardTry is a failure's hint in the wizard's words.
func wizardTry(fi *onboard.FailureInfo) string {
	if fi.Hint != nil {
		return wizardText(fi.Hint.Text(fieldName))
	}
	return wizardText(fi.Try)
}

// wizardEvent puts an event's sentences in the wizard's words.
func wizardEvent(e onboard.Event) onboard.Event {
	e.Message = wizardText(e.Message)
	if e.Facts != nil {
		e.Facts = wizardFacts(e.Facts)
	}
	if e.Err != nil {
		fi := *e.Err
		fi.What, fi.Try, fi.Diagnostics = wizardText(fi.What), wizardTry(&fi), wizardText(fi.Diagnostics)
		e.Err = &fi
	}
	return e
}

func wizardFacts(fs []onboard.Fact) []onboard.Fact {
	out := make([]onboard.Fact, len(fs))
	for i, f := range fs {
		out[i] = f
		out[i].Warning = wizardText(f.Warning)
	}
	return out
}
