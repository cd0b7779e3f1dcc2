package tui

import (
	"github.com/wgboot/wgboot/onboard"
)

// OnboardFactory returns a Factory that makes real engines. base supplies
// what the wizard does not ask for (Dial, NewLocal, Settings, Fingerprint,
// TOFU, WANProbe, Logf); the Connect screen's answers and the wizard's
// Prompter and Sink replace the rest. Without TOFU in base, the engine asks
// before trusting a certificate on first contact, and the Trust screen shows
// that question.
func OnboardFactory(base onboard.Options) Factory {
	return func(c Connection) (Engine, error) {
		o := base
		o.Router, o.Plain, o.User, o.Password = c.Router, c.Plain, c.User, c.Password
		if c.StateDir != "" {
			o.StateDir = c.StateDir
		}
		o.Prompter, o.Sink = c.Prompter, c.Sink
		if c.ProveRemote != nil {
			o.ProveRemote = c.ProveRemote
		}
		if c.Now != nil {
			o.Now = c.Now
		}
		e, err := onboard.New(o)
		if err != nil {
			return nil, err // never a typed nil inside the interface
		}
		return e, nil
	}
}

var _ Engine = (*onboard.Engine)(nil)
