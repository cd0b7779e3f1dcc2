package sim

import (
	"context"
	"time"
)

// schedulerTick is how often the scheduler looks at the simulated clock.
const schedulerTick = 10 * time.Millisecond

// planSchedules computes each scheduler's next run. Caller holds r.mu.
func (r *Router) planSchedules() {
	t := r.st.tables["/system scheduler"]
	now := r.clk.now()
	keep := map[uint32]time.Time{}
	for _, it := range t.items {
		if t.disabled(it) {
			continue
		}
		iv, _ := t.get(it, "interval")
		interval, _ := parseDuration(iv)
		st := it.props["start-time"]
		if st == "startup" {
			if interval > 0 {
				if n, ok := r.nextRun[it.id]; ok {
					keep[it.id] = n
				} else {
					keep[it.id] = r.bootTime.Add(interval)
				}
			}
			continue
		}
		start, ok := r.startOf(it)
		if !ok {
			continue
		}
		switch {
		case start.After(now):
			keep[it.id] = start
		case interval > 0:
			k := now.Sub(start)/interval + 1
			keep[it.id] = start.Add(k * interval)
		default:
			// A one-shot whose time has passed does not run again.
			if n, ok := r.nextRun[it.id]; ok {
				keep[it.id] = n
			}
		}
	}
	r.nextRun = keep
}

// startOf is a scheduler's first run time on the simulated clock.
func (r *Router) startOf(it *item) (time.Time, bool) {
	date := r.formatDate(it.created)
	if v := it.props["start-date"]; v != "" {
		date = v
	}
	tm := it.created.Format("15:04:05")
	if v := it.props["start-time"]; v != "" {
		tm = v
	}
	d, err := parseDate(date)
	if err != nil {
		return time.Time{}, false
	}
	off, err := parseClock(tm)
	if err != nil {
		return time.Time{}, false
	}
	loc := r.clk.now().Location()
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc).Add(off), true
}

// schedulerLoop fires due schedulers until the router closes.
func (r *Router) schedulerLoop() {
	defer r.bg.Done()
	tick := time.NewTicker(schedulerTick)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		r.mu.Lock()
		if r.closed || r.st == nil {
			r.mu.Unlock()
			continue
		}
		now := r.clk.now()
		t := r.st.tables["/system scheduler"]
		var due []*item
		for _, it := range t.items {
			n, ok := r.nextRun[it.id]
			if !ok || n.After(now) {
				continue
			}
			due = append(due, it)
			iv, _ := t.get(it, "interval")
			interval, _ := parseDuration(iv)
			if interval <= 0 {
				delete(r.nextRun, it.id)
				continue
			}
			for !n.After(now) {
				n = n.Add(interval)
			}
			r.nextRun[it.id] = n
		}
		jobs := r.startJobs(due)
		expired := r.expireEntries(now)
		r.mu.Unlock()
		if expired {
			r.reconcile(map[string]bool{"/ip firewall address-list": true})
		}
		for _, j := range jobs {
			r.bg.Add(1)
			go func() {
				defer r.bg.Done()
				j()
			}()
		}
	}
}

// startJobs counts the runs and returns closures running each on-event:
// the source of the /system script it names, or the text itself.
// Caller holds r.mu.
func (r *Router) startJobs(due []*item) []func() {
	var jobs []func()
	scripts := r.st.tables["/system script"]
	for _, it := range due {
		r.runs[it.id]++
		name, src := it.props["name"], it.props["on-event"]
		if s := r.findOne(scripts, src); s != nil {
			r.runs[s.id]++
			src = s.props["source"]
		}
		jobs = append(jobs, func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-r.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			_ = r.runScript(ctx, name, src, true)
		})
	}
	return jobs
}

// fireStartup runs the start-time=startup schedulers, as at boot.
func (r *Router) fireStartup() {
	r.mu.Lock()
	t := r.st.tables["/system scheduler"]
	var due []*item
	for _, it := range t.items {
		if !t.disabled(it) && it.props["start-time"] == "startup" {
			due = append(due, it)
		}
	}
	r.planSchedules()
	jobs := r.startJobs(due)
	r.mu.Unlock()
	for _, j := range jobs {
		r.bg.Add(1)
		go func() {
			defer r.bg.Done()
			j()
		}()
	}
}

// expireEntries removes address-list entries whose timeout has run out.
// Caller holds r.mu.
func (r *Router) expireEntries(now time.Time) bool {
	t := r.st.tables["/ip firewall address-list"]
	kept := t.items[:0]
	for _, it := range t.items {
		if !it.expires.IsZero() && !it.expires.After(now) {
			continue
		}
		kept = append(kept, it)
	}
	gone := len(kept) != len(t.items)
	t.items = kept
	if gone {
		r.listGen++
	}
	return gone
}
