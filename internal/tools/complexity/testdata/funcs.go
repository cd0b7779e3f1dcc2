package funcs

// simple has complexity 1.
func simple() {}

// branches has complexity 1 + if + for + range + 2 cases + select case +
// && + || + the if in the func literal = 10.
func branches(a, b bool, xs []int, ch chan int) {
	if a && b || !a {
	}
	for i := 0; i < 1; i++ {
	}
	for range xs {
	}
	switch {
	case a:
	case b:
	default:
	}
	select {
	case <-ch:
	default:
	}
	_ = func() {
		if a {
		}
	}
}

// explained is over the limit with a reason.
//
// Long because: one table of cases reads better than five helpers.
func explained(a bool) {
	if a {
	}
	if a {
	}
}

type T[K any] struct{}

// unexplained mentions long because without the marker at a line start.
func (t *T[K]) unexplained(a bool) {
	if a {
	}
	if a {
	}
}

// emptyReason has the marker without a reason.
//
// Complex because:
func emptyReason(a bool) {
	if a {
	}
	if a {
	}
}
