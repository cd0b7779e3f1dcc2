// Package fleet onboards many routers in one go: it reads an inventory
// (YAML), gives each router its own VPN subnet from a pool, runs the onboard
// engine for several routers at once, and writes one wg-quick file per
// router, named by its identity and a hash of its address so that wg-quick
// accepts the name (an interface name: at most 15 characters), and an index
// (index.tsv) saying which file is which router. A file name that is
// already taken, in this run or on disk, is refused, never overwritten. A
// rollback of a router retires its file (Retire).
//
// Each router gets its own technician key (the engine makes a fresh one per
// run). Passwords never appear in the inventory: a router names the
// environment variable that holds its password (default WGBOOT_PASSWORD).
//
// The runner reports progress as Events; rendering them (the live table,
// JSON lines) is the command line's business (cmd/wgboot fleet.go).
//
// The inventory format is documented on Inventory; testdata/inventory.yaml
// is a complete example.
//
// Out of scope: the onboarding itself (package onboard), interactive
// questions (fleet mode never asks: the inventory must pin each router's
// certificate or say tofu: true), and rollback of a fleet (run
// `wgboot rollback` per router; it removes the router's fleet file).
package fleet
