// Command wgboot is the headless front end of the onboard engine: plan,
// apply, rollback, status and audit, one file per subcommand. With no
// subcommand it starts the wizard (wizard.go, the TUI). It renders the
// engine's events as lines or JSON lines and maps errors to exit codes:
// 0 ok, 1 failure, 2 bad input, 130 interrupted.
//
// Out of scope: onboarding logic (package onboard) and the full-screen UI
// (package tui).
package main
