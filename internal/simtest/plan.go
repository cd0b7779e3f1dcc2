package simtest

import (
	"context"
	"testing"
)

// Connector is what Connect drives: *onboard.Engine, named by its methods
// so that onboard's in-package tests can use it (simtest cannot import
// onboard: onboard's tests import simtest).
type Connector interface {
	Connect(ctx context.Context) error
	Close() error
}

// Engine is what Plan drives: a Connector that plans with settings S.
type Engine[S, P any] interface {
	Connector
	Plan(ctx context.Context, s S) (P, error)
}

// Connect makes an engine with newEngine(o) and connects it. A failure
// fails t (the engine is closed first); on success the caller owns the
// engine and closes it when the test needs it gone.
//
//	e := simtest.Connect(t, ctx, onboard.New, o)
//	defer e.Close()
func Connect[E Connector, O any](t testing.TB, ctx context.Context, newEngine func(O) (E, error), o O) E {
	t.Helper()
	e, err := newEngine(o)
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	if err := e.Connect(ctx); err != nil {
		e.Close()
		t.Fatalf("connect: %v", err)
	}
	return e
}

// Plan is Connect, then a plan with s: the start of most tests that
// onboard a router.
//
//	e, p := simtest.Plan(t, ctx, onboard.New, o, o.Settings)
//	defer e.Close()
func Plan[E Engine[S, P], O, S, P any](t testing.TB, ctx context.Context, newEngine func(O) (E, error), o O, s S) (E, P) {
	t.Helper()
	e := Connect(t, ctx, newEngine, o)
	p, err := e.Plan(ctx, s)
	if err != nil {
		e.Close()
		t.Fatalf("plan: %v", err)
	}
	return e, p
}
