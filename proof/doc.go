// Package proof holds the evidence behind wgboot's safety claims: the
// bad-input table, the fault matrix, the property tests over random
// rulesets, the secret scan and the speed benchmarks. Every test drives the
// real engine and the real wgboot binary against rossim (routeros/sim)
// in-process, on loopback addresses only.
//
// Modes: `go test ./proof/` (and make test) runs a shortened matrix;
// WGBOOT_FAULTS=full (make faults) runs every example, every command and
// thousands of rulesets. Figures come from Benchmark functions (make bench);
// no test asserts on time.
//
// Out of scope: testing packages in isolation (each has its own tests) and
// real routers.
package proof
