# wgboot — see README.md. Targets stay small; heavier suites are opt-in.
GO      ?= go
PKGS    ?= ./...
FUZZTIME ?= 20s
BIN     := bin
VERSION ?= 0.1.0
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# staticcheck is run at a pinned release through go run (not in go.mod);
# the first run downloads and builds it. 2026.2.2 (v0.8.2) supports Go 1.26.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build install test race lint sizes fuzz bench faults demo clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

# make install: wgboot and rossim into $GOBIN (default $(go env GOPATH)/bin),
# which must be on the PATH.
install:
	$(GO) install -ldflags '$(LDFLAGS)' ./cmd/wgboot ./cmd/rossim
	@d=$$($(GO) env GOBIN); echo "installed wgboot and rossim in $${d:-$$($(GO) env GOPATH)/bin}: put it on your PATH"

# make test: everything CI runs (race detector on, fuzz seeds as plain tests).
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 9m $(PKGS)

# make lint: gofmt, go vet, staticcheck, and no non-test function over 100
# lines or cyclomatic complexity 30 unless its doc says "Long because: ..."
# (internal/tools/complexity). .ci/run runs it before make test.
lint:
	@# gofmt -l . needs no git (a CI checkout may belong to another user).
	@test -z "$$(gofmt -l .)" || (echo "gofmt -w these files:"; gofmt -l .; exit 1)
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	$(GO) run ./internal/tools/complexity -lines 100 -over 30 .

# make sizes: the 15 most complex functions and the 12 largest non-test files
# (the figures a refactor's note compares).
sizes:
	@$(GO) run ./internal/tools/complexity -top 15 .
	@find . -name '*.go' ! -name '*_test.go' ! -path './.*' | xargs wc -l | sort -n | tail -13

# make fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# make bench: figures, never timed assertions. proof: full apply at 0, 50
# and 100 ms (round trips, handshakes, wall time, ratio to the floor,
# peer-to-handshake time), wgboot --version start-up; fleet: 100 routers;
# onboard: inspect + plan with 1k/10k/50k-entry blocklists and a full apply
# at 50k (BigRouter); rossim and the evaluator on a 50k list (BigList).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x $(PKGS)
	$(GO) test -run '^$$' -bench 'Version' -benchtime 20x ./proof/

# make faults: the full fault matrix (every example, every command: sever,
# kill, trap), thousands of random rulesets, the bad-input table and the
# secret scan, with the known issues of proof/FINDINGS.md included.
faults:
	@mkdir -p $(BIN)
	@echo "== make faults: log in $(BIN)/faults.log"
	@WGBOOT_FAULTS=full $(GO) test -count=1 -timeout 60m -v -run 'Fault|Property|BadInput|Secret|HostileNames' ./proof/ > $(BIN)/faults.log 2>&1; st=$$?; \
	  grep -E -A4 'fault matrix summary' $(BIN)/faults.log; \
	  grep -E 'property summary|bad input summary|secret scan summary|hostile names summary' $(BIN)/faults.log; \
	  grep -E '^(--- FAIL|FAIL|ok)|^    --- FAIL' $(BIN)/faults.log; exit $$st

demo: build
	$(BIN)/wgboot demo

clean:
	rm -rf $(BIN)
