package simtest

import (
	"context"
	"testing"
)

// Engine is what Plan drives: *onboard.Engine, named by its methods so
// that onboard's in-package tests can use Plan (simtest cannot import
// onboard: onboard's tests import simtest).
type Engine[S, P any] interface {
	Connect(ctx context.Context) error
	Plan(ctx context.Context, s S) (P, error)
	Close() error
}

// Plan makes an engine with newEngine(o), connects it and plans with s:
// the start of most tests that onboard a router. Any failure fails t (the
// engine is closed first); on success the caller owns the engine and
// closes it when the test needs it gone.
//
//	e, p := simtest.Plan(t, ctx, onboard.New, o, o.Settings)
//	defer e.Close()
func Plan[E Engine[S, P], O, S, P any](t testing.TB, ctx context.Context, newEngine func(O) (E, error), o O, s S) (E, P) {
	t.Helper()
	e, err := newEngine(o)
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	if err := e.Connect(ctx); err != nil {
		e.Close()
		t.Fatalf("connect: %v", err)
	}
	p, err := e.Plan(ctx, s)
	if err != nil {
		e.Close()
		t.Fatalf("plan: %v", err)
	}
	return e, p
}
