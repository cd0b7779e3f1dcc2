package sim

import "time"

// AdvanceClock moves the router's clock forward by d at once, as if d had
// passed: schedulers due by then fire on the scheduler's next tick. Tests
// use it to let an armed rollback fire without waiting for it.
func (r *Router) AdvanceClock(d time.Duration) {
	r.clk.set(r.clk.now().Add(d))
}
