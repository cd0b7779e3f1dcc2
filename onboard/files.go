package onboard

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/wgboot/wgboot/routeros"
)

// filePrefix starts the name of every file a wgboot run writes on the
// router.
const filePrefix = "wgboot-"

// exportFile is the export the arm step writes: /export file=NAME writes
// NAME.rsc. RouterOS 7 leaves keys and passwords out of an export unless
// show-sensitive is given, so the file holds no secret.
func exportFile(run string) string { return filePrefix + run + ".rsc" }

// runFiles are the names of every file a run may have left: its export,
// and the unencrypted backup (every secret of the router) that wgboot
// versions before finding 23 saved.
func runFiles(run string) []string {
	return []string{exportFile(run), filePrefix + run + ".backup"}
}

// wgbootFile reports whether a /file name is one a wgboot run writes, in
// any folder (boards with a flash folder put files in flash/).
func wgbootFile(name string) bool {
	base := path.Base(name)
	return strings.HasPrefix(base, filePrefix) && (strings.HasSuffix(base, ".rsc") || strings.HasSuffix(base, ".backup"))
}

// removeRunFiles removes the files of run from the router, found by their
// exact names. It is best effort: the files hold no secret and the armed
// safety net does not need them, so a failure is told as a warning (and
// wgboot status lists what is left) rather than failing a commit or a
// rollback.
func (e *Engine) removeRunFiles(ctx context.Context, cl session, step Step, run string) {
	if err := removeRunFiles(ctx, cl, run); err != nil {
		e.emit(Event{Step: step, Kind: KindWarning, Message: err.Error()})
	}
}

func removeRunFiles(ctx context.Context, cl session, run string) error {
	names := runFiles(run)
	rep, err := cl.Run(ctx, "/file/print", "=.proplist=.id,name")
	if err != nil {
		return fmt.Errorf("onboard: list the router's files to remove %s: %w", strings.Join(names, ", "), err)
	}
	var ids, found []string
	for _, m := range rep.Re {
		if slices.Contains(names, path.Base(m["name"])) {
			ids, found = append(ids, m[".id"]), append(found, m["name"])
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := cl.Run(ctx, "/file/remove", "=numbers="+strings.Join(ids, ",")); err != nil && !routeros.IsNotFound(err) {
		return fmt.Errorf("onboard: remove %s from the router (/file remove): %w", strings.Join(found, ", "), err)
	}
	return nil
}

// leftoverFiles are the wgboot files on the router that belong to no armed
// run: what earlier runs left behind.
func (r *Router) leftoverFiles() []string {
	var keep []string
	if run := r.armedRun(); run != "" {
		keep = runFiles(run)
	}
	var out []string
	for _, f := range r.Files {
		if n := f["name"]; wgbootFile(n) && !slices.Contains(keep, path.Base(n)) {
			out = append(out, n)
		}
	}
	return out
}
