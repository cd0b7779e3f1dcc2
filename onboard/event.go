package onboard

import (
	"context"
	"time"
)

// Step names one stage of an onboarding. Front ends show steps in this order.
type Step string

// The steps of an onboarding, in order.
const (
	StepConnect  Step = "connect"  // TCP/TLS connect, trust, login
	StepInspect  Step = "inspect"  // read the router
	StepPlan     Step = "plan"     // decide and check the plan with the evaluator
	StepArm      Step = "arm"      // export, rollback script and schedulers
	StepApply    Step = "apply"    // router-side changes
	StepTunnel   Step = "tunnel"   // local peer up, handshake
	StepVerify   Step = "verify"   // API through the tunnel
	StepHarden   Step = "harden"   // drop API on the WAN
	StepReverify Step = "reverify" // API through the tunnel again, WAN probe
	StepCommit   Step = "commit"   // disarm, write config, journal, summary
	StepRollback Step = "rollback" // undo (on failure or on request)
	StepPeer     Step = "peer"     // a team peer added, removed or rotated (wgboot peer)
)

// Kind says what an Event reports.
type Kind string

// Event kinds.
const (
	KindStarted  Kind = "started"
	KindProgress Kind = "progress"
	KindDone     Kind = "done"
	KindFailed   Kind = "failed"
	KindWarning  Kind = "warning"
	KindInfo     Kind = "info"
)

// Event is one thing the engine reports. Front ends render events; they hold
// no onboarding logic. Fields other than Time, Step, Kind and Message are
// optional: nil means "not part of this event".
type Event struct {
	Time    time.Time `json:"time"`
	Step    Step      `json:"step"`
	Kind    Kind      `json:"kind"`
	Message string    `json:"message"`

	Facts     []Fact        `json:"facts,omitempty"`     // inspect results, one per checklist line
	Plan      *Plan         `json:"plan,omitempty"`      // on StepPlan done
	Handshake *Handshake    `json:"handshake,omitempty"` // on StepTunnel progress/done
	Deadline  *time.Time    `json:"deadline,omitempty"`  // armed auto-rollback fires at this time (router clock mapped to local)
	Summary   *Summary      `json:"summary,omitempty"`   // on StepCommit done
	Err       *FailureInfo  `json:"error,omitempty"`     // on KindFailed
	Elapsed   time.Duration `json:"elapsed,omitempty"`

	// State is where the run stands as this event goes out. Front ends
	// read it rather than re-deriving it from the sequence of events.
	State State `json:"state"`
}

// State is the run's state as the engine knows it, carried by every Event.
// It describes the router now: after a rollback nothing is armed, applied
// or hardened any more.
type State struct {
	Connected bool `json:"connected,omitempty"` // logged in to the router
	// Armed: the router's auto-rollback is armed and fires at Deadline
	// (router clock mapped to local) unless wgboot confirms.
	Armed     bool       `json:"armed,omitempty"`
	Deadline  *time.Time `json:"deadline,omitempty"`
	Applied   bool       `json:"applied,omitempty"`    // the router-side changes are in place
	ProvenVia string     `json:"proven_via,omitempty"` // where the handshake came from: "wan", "lan"; "outside" once a phone proved it
	Hardened  bool       `json:"hardened,omitempty"`   // the API is dropped on the WAN
	Committed bool       `json:"committed,omitempty"`  // the run is confirmed: the safety net is gone, the changes stay
	// RolledBack: the run's changes were undone (by wgboot, at the
	// technician's request or after a failure).
	RolledBack bool `json:"rolled_back,omitempty"`
}

// Fact is one line of the inspect checklist ("RouterOS", "7.20.6").
type Fact struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Warning string `json:"warning,omitempty"` // a sentence a technician can act on
}

// Handshake is the live state of the tunnel.
type Handshake struct {
	Done     bool          `json:"done"`
	Age      time.Duration `json:"age"`
	Rx       uint64        `json:"rx,omitempty"`
	Tx       uint64        `json:"tx,omitempty"`
	Endpoint string        `json:"endpoint,omitempty"`
}

// FailureInfo explains a failure in words a technician can act on.
type FailureInfo struct {
	What        string   `json:"what"`        // what failed, in plain words
	Undone      []string `json:"undone"`      // what was rolled back
	Try         string   `json:"try"`         // what to try next (Hint in the engine's words, when there is one)
	Diagnostics string   `json:"diagnostics"` // text to copy into a ticket
	// Kind is what kind of failure this is (KindOf the error).
	Kind ErrorKind `json:"kind,omitempty"`
	// Hint is Try with the settings it names kept apart: a front end
	// says it with its own names for them (a flag, a field).
	Hint *Hint `json:"hint,omitempty"`
}

// failure is the FailureInfo of err: what, its kind, and h as the hint.
func failure(err error, what string, h *Hint) *FailureInfo {
	return &FailureInfo{What: what, Try: h.Text(nil), Kind: KindOf(err), Hint: h}
}

// Question is something the engine needs the technician to decide.
type Question struct {
	ID      QuestionID `json:"id"`
	Title   string     `json:"title"`
	Detail  string     `json:"detail"`
	Default bool       `json:"default"`
	Danger  bool       `json:"danger,omitempty"` // shown in red (e.g. a changed fingerprint)
	// Deadline, when set, is when the engine stops waiting for the answer
	// (the Gate's is the safety net's): the Prompter's ctx ends then, and
	// the engine acts as its policy says (at the Gate: the window ran out,
	// everything is rolled back). Front ends show it; they do not enforce it.
	Deadline *time.Time `json:"deadline,omitempty"`
}

// QuestionID names a question: front ends decide how to ask by it (the
// Gate is QHarden), so it is a closed set, never free text.
type QuestionID string

// The questions the engine and the front ends ask.
const (
	QTrustFingerprint  QuestionID = "trust-fingerprint"  // first contact: trust this certificate?
	QCreateCertificate QuestionID = "create-certificate" // Danger: the password crosses the network unencrypted
	QApplyPlan         QuestionID = "apply-plan"         // the plan as shown: apply it?
	QHarden            QuestionID = "harden"             // the Gate: close the API on the WAN?
	QRollback          QuestionID = "rollback"           // wgboot rollback: go ahead?
	QRollbackEarlier   QuestionID = "rollback-earlier"   // an unfinished earlier run: roll it back first?
	QPeerRemove        QuestionID = "peer-remove"        // wgboot peer remove: go ahead?
)

// Prompter answers the engine's questions. The headless CLI answers from flags
// (--yes) or stdin; the TUI answers from its screens. Confirm blocks until the
// answer is known or ctx is done.
type Prompter interface {
	Confirm(ctx context.Context, q Question) (bool, error)
}

// Sink receives events. It must not block for long; the engine calls it from
// its own goroutine, in order.
type Sink func(Event)

// Settings are the choices a plan is made from. Zero values mean "let the
// engine choose" (the chosen values come back in Plan.Settings).
type Settings struct {
	Subnet         string        `json:"subnet"`          // VPN subnet, e.g. "10.77.0.0/24"
	ListenPort     int           `json:"listen_port"`     // router WireGuard port
	Endpoint       string        `json:"endpoint"`        // published endpoint host written into the config
	VerifyEndpoint string        `json:"verify_endpoint"` // where this run sends WireGuard packets (host or host:port)
	Local          string        `json:"local"`           // "auto", "kernel", "netstack"
	LANKeepsAPI    bool          `json:"lan_keeps_api"`
	LogRefused     bool          `json:"log_refused"`
	ConfirmTimeout time.Duration `json:"confirm_timeout"`
}

// Plan is what the engine will do, shown before anything changes.
type Plan struct {
	Settings Settings     `json:"settings"`
	Changes  []Change     `json:"changes"`
	Verdicts []VerdictRow `json:"verdicts"`
	Warnings []string     `json:"warnings,omitempty"`
	Noop     bool         `json:"noop,omitempty"` // router already onboarded: nothing to change
	// Files are the files the run writes on the router (an export of its
	// configuration before the run, without secrets); they are removed at
	// commit and at rollback.
	Files []string `json:"files,omitempty"`
}

// Change is one router change with its inverse, both in export syntax.
type Change struct {
	Step        Step   `json:"step"` // StepApply or StepHarden
	Description string `json:"description"`
	Command     string `json:"command"` // e.g. `/interface wireguard add name=wgboot ...`
	Inverse     string `json:"inverse"`
}

// VerdictRow is one probe of the before/after table ("WAN→API": drop → drop).
type VerdictRow struct {
	Probe  string `json:"probe"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Summary is what a finished onboarding leaves the technician.
type Summary struct {
	Router       string `json:"router"`                // host:port used
	Identity     string `json:"identity"`              // /system identity
	RouterTunnel string `json:"router_tunnel"`         // e.g. 10.77.0.1
	LocalTunnel  string `json:"local_tunnel"`          // e.g. 10.77.0.2/24
	Endpoint     string `json:"endpoint"`              // published endpoint host:port
	ConfigPath   string `json:"config_path"`           // wg-quick file
	QR           string `json:"qr,omitempty"`          // QR code of the config, terminal text
	ProvenVia    string `json:"proven_via"`            // "wan" or "lan": where the router saw the handshake come from (see docs); "outside": a phone's, from ProvenFrom
	ProvenFrom   string `json:"proven_from,omitempty"` // the outside address a phone proved the tunnel from
	// OutsideUnproven is set when the tunnel was proven from the LAN only
	// while the API answered on the WAN before: nobody has reached the
	// tunnel from outside (the internet) yet, so remote access now rests
	// on the WireGuard port being reachable from there.
	OutsideUnproven bool   `json:"outside_unproven"`
	Reconnect       string `json:"reconnect"` // exact command for next time
	Undo            string `json:"undo"`      // exact command to undo
	Changes         int    `json:"changes"`
}
