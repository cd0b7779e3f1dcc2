// Package tui is the interactive wizard of wgboot: a bubbletea program that
// walks a technician through Connect, Trust, Inspect, Plan, Apply and verify,
// the hardening Gate, and Done (or Failure).
//
// The wizard holds no onboarding logic. It drives an [Engine] (the real one
// wraps onboard.Engine), renders the onboard.Events the engine emits and turns
// the engine's questions (onboard.Prompter) into screens. Every engine call
// runs inside a tea.Cmd; events and questions reach the model through one
// channel drained by a re-armed wait Cmd, so Update never blocks and View
// does no I/O.
//
// Where things are: the root Model (model.go) keeps what every screen
// shares (quit, help, the header, the countdown, the engine calls) and
// routes keys, other messages, the body and the footer to the screen on
// show through the screen interface (screen.go); its modes are the two
// enums of state.go, changed only by the transitions there; styles and key
// bindings are defined once, in styles.go.
//
// Declining the Gate (n or esc) answers the engine's question with no: the
// engine rolls every change back (onboard.ErrDeclined), and the final screen
// says the router is as it was. Quitting while changes are armed on the router rolls them
// back before the program returns. [RunAccessible] is the same flow as plain prompts (huh's
// accessible forms) for screen readers and dumb terminals.
//
// Out of scope: deciding what to change on the router, talking to it, and the
// headless `wgboot apply` front end; all of that lives in package onboard and
// in cmd/wgboot.
package tui
