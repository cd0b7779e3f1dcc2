package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binBuild is the wgboot binary built from this tree, once per test run
// (TestMain removes it).
var binBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func wgbootBin(t testing.TB) string {
	t.Helper()
	binBuild.once.Do(func() {
		binBuild.dir, binBuild.err = os.MkdirTemp("", "wgboot-cli-")
		if binBuild.err != nil {
			return
		}
		binBuild.path = filepath.Join(binBuild.dir, "wgboot")
		out, err := exec.Command("go", "build", "-o", binBuild.path, ".").CombinedOutput()
		if err != nil {
			binBuild.err = fmt.Errorf("build wgboot: %v\n%s", err, out)
		}
	})
	if binBuild.err != nil {
		t.Fatal(binBuild.err)
	}
	return binBuild.path
}

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
	cmd := exec.CommandContext(ctx, wgbootBin(t), args...)
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
