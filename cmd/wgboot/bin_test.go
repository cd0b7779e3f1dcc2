package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/simtest"
)

// binBuild is the wgboot binary built from this tree, once per test run
// (TestMain removes it).
var binBuild = simtest.Build{Pkg: "."}

// binResult is how one run of the binary ended.
type binResult struct {
	code           int
	stdout, stderr string
}

func (r binResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runBin runs the built wgboot with args and only env (plus PATH and
// HOME) in its environment; stdin is empty.
func runBin(t testing.TB, env map[string]string, args ...string) binResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binBuild.Path(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader("")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run wgboot %v: %v", args, err)
	}
	return binResult{code: code, stdout: out.String(), stderr: errb.String()}
}
