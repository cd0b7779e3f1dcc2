package tui

// The root Model's modes. Two small enums replace the five flags askQuit,
// quitting, rolled, armed and fired, so that combinations that cannot
// happen (asking to quit while already quitting, rolled back while still
// armed) cannot be written down either; every change of mode goes through
// the transitions below. They are two enums, not one, because they vary
// independently: the technician may ask to quit, or quit, whatever is armed
// on the router, and one enum would be their product.
//
// What stays outside on purpose:
//   - Model.showHelp: the ? help covers any screen in any phase (the quit
//     question is asked from it and answered without closing it), so it is
//     an overlay, not a mode.
//   - Model.ticking: whether a countdown tick is scheduled. It is the
//     timer loop's bookkeeping, not a mode: the loop outlives a disarm by up
//     to a second, and a deadline that arrives meanwhile must not start a
//     second loop.
//   - an engine call in flight is Model.cancelOp != nil (it was a flag of
//     its own beside the cancel func).

// phase is where the wizard stands between running and ending.
type phase int

const (
	phaseRun        phase = iota // the technician drives the current screen
	phaseAskQuit                 // the footer asks "Quit?" over the screen
	phaseQuitting                // quit confirmed: the call in flight stops, then what is armed is rolled back
	phaseRolledBack              // quit (or shut down) and the wizard rolled the armed changes back
)

func (p phase) String() string {
	switch p {
	case phaseRun:
		return "run"
	case phaseAskQuit:
		return "ask-quit"
	case phaseQuitting:
		return "quitting"
	case phaseRolledBack:
		return "rolled-back"
	}
	return "phase?"
}

// quitting reports whether the quit was confirmed (or is done).
func (p phase) quitting() bool { return p == phaseQuitting || p == phaseRolledBack }

// safetyNet is what the wizard knows of the router's safety net: whether changes
// are armed (the router undoes them at the deadline) and whether that
// deadline passed while the wizard waited. All four combinations occur:
// after the deadline passed, the wizard still treats the changes as armed
// (and rolls them back on quit) until the engine says they are undone.
type safetyNet int

const (
	netIdle      safetyNet = iota // nothing armed on the router (not yet, or committed, or undone)
	netArmed                      // changes armed; the router undoes them at the deadline
	netFired                      // armed, and the deadline passed: the router rolled itself back
	netFiredIdle                  // the deadline passed, and since then the engine says nothing is armed
)

func (n safetyNet) String() string {
	switch n {
	case netIdle:
		return "idle"
	case netArmed:
		return "armed"
	case netFired:
		return "fired"
	case netFiredIdle:
		return "fired-idle"
	}
	return "net?"
}

// armed reports whether changes on the router may still be armed: what a
// quit rolls back and what keeps esc from going back to Connect.
func (n safetyNet) armed() bool { return n == netArmed || n == netFired }

// fired reports whether the safety net ran out while the wizard waited.
func (n safetyNet) fired() bool { return n == netFired || n == netFiredIdle }

// arm: the engine armed the safety net (or extended its deadline).
func (n safetyNet) arm() safetyNet {
	if n.fired() {
		return netFired
	}
	return netArmed
}

// disarm: the engine says nothing is armed any more (commit, undo, or the
// end of Apply).
func (n safetyNet) disarm() safetyNet {
	if n.fired() {
		return netFiredIdle
	}
	return netIdle
}

// fire: the deadline passed while armed.
func (n safetyNet) fire() safetyNet {
	if n == netArmed {
		return netFired
	}
	return n
}

// ranOut: the engine says the safety net ran out (an Apply that failed with
// onboard.ErrorWindowRanOut), whether or not its events already disarmed.
func (n safetyNet) ranOut() safetyNet {
	if n.armed() {
		return netFired
	}
	return netFiredIdle
}

// Transitions of the Model. Every write of m.phase and m.safety is here.

// askQuit shows the quit question.
func (m *Model) askQuit() { m.phase = phaseAskQuit }

// stay answers the quit question with no.
func (m *Model) stay() { m.phase = phaseRun }

// startQuit records that the technician confirmed the quit.
func (m *Model) startQuit() { m.phase = phaseQuitting }

// arm records the engine's deadline: changes are armed on the router.
func (m *Model) arm() { m.safety = m.safety.arm() }

// disarm records that nothing is armed on the router any more.
func (m *Model) disarm() { m.safety = m.safety.disarm() }

// ranOut records the engine's word that the safety net ran out.
func (m *Model) ranOut() { m.safety = m.safety.ranOut() }

// fire records that the safety net ran out while armed.
func (m *Model) fire() { m.safety = m.safety.fire() }

// rolledBack records that the wizard's own rollback went through. It
// reports false when that was already recorded, so the note is added once.
func (m *Model) rolledBack() bool {
	m.disarm()
	if m.phase == phaseRolledBack {
		return false
	}
	m.phase = phaseRolledBack
	return true
}
