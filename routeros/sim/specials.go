package sim

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wgboot/wgboot/routeros/rsc"
)

// command runs one API command: resolve, fault injection, execute, count.
// sever is true when DropAfterCommands fires on this command.
func (r *Router) command(ctx context.Context, path string, args []arg, queries []string, policy map[string]bool, c *apiConn) (*reply, bool, error) {
	// Every command counts towards DropAfterCommands, failed ones too: the
	// technician's link dies after the Nth command, whatever it answered.
	r.mu.Lock()
	r.stats.Commands++
	r.cmdCount++
	sever := r.o.DropAfterCommands > 0 && r.cmdCount == r.o.DropAfterCommands
	menu, verb, terr := r.st.resolvePath(path)
	trapOn, dropAt := r.o.TrapOn, r.o.DropAfterCommands
	r.mu.Unlock()
	if sever {
		r.logf("sim: drop-after-commands: severing every API connection after command %d (%s)", dropAt, path)
	}
	r.record(path, args, queries)
	if terr != nil {
		return nil, sever, terr
	}
	for _, p := range trapOn {
		if strings.Trim(p, "/") == strings.Trim(path, "/") {
			return nil, sever, trap(-1, "failure: fault injected by rossim --trap-on")
		}
	}
	q := &request{menu: menu, verb: verb, args: args, query: queries, policy: policy}
	rep, err := r.do(ctx, q)
	return rep, sever, err
}

// InjectFaults arms faults from now on, as DropAfterCommands and TrapOn do
// from the start: the link is severed after the nth command from now (0:
// never) and every command on trapOn is answered with a trap. A test can so
// fault the second run against a router (a rollback after an apply).
func (r *Router) InjectFaults(dropAfterCommands int, trapOn []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.o.DropAfterCommands = 0
	if dropAfterCommands > 0 {
		r.o.DropAfterCommands = r.cmdCount + dropAfterCommands
	}
	r.o.TrapOn = append([]string(nil), trapOn...)
}

// maxJournal bounds the command journal.
const maxJournal = 10000

// record appends an API command to the journal, secrets masked.
func (r *Router) record(path string, args []arg, queries []string) {
	words := []string{path}
	for _, a := range args {
		v := a.Value
		if sensitive[a.Key] {
			v = "***"
		}
		words = append(words, "="+a.Key+"="+v)
	}
	words = append(words, queries...)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.journal = append(r.journal, strings.Join(words, " "))
	if len(r.journal) > maxJournal {
		r.journal = r.journal[len(r.journal)-maxJournal:]
	}
}

// Journal returns the API commands the router received after login, in
// order, one line each ("/ip/firewall/filter/add =chain=input ..."), with
// passwords and keys masked. Tests keep it as a golden file.
func (r *Router) Journal() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.journal...)
}

// do is the command layer shared by the API, scripts and the scheduler.
func (r *Router) do(ctx context.Context, q *request) (*reply, error) {
	if !q.system && writeVerbs[q.verb] && !q.policy["write"] {
		return nil, errPermission()
	}
	switch q.menu + " " + q.verb {
	case " export":
		return r.exportCmd(q)
	case "/system reboot":
		r.bg.Add(1)
		go func() {
			defer r.bg.Done()
			// Reply first, then go down, as the router does.
			time.Sleep(50 * time.Millisecond)
			r.Reboot(context.Background())
		}()
		return &reply{}, nil
	case "/system shutdown", "/system backup load":
		return nil, trap(-1, "failure: not supported by rossim")
	case "/system backup save":
		return r.backupSave(q)
	case "/system script run":
		return r.runScriptCmd(ctx, q)
	case "/file read":
		return r.fileRead(q)
	case "/certificate sign":
		return r.sign(q)
	}
	if q.menu == "/interface wireguard peers" && (q.verb == "print" || q.verb == "get" || q.verb == "getall") {
		r.refreshPeerStats()
	}
	r.mu.Lock()
	rep, err := r.exec(ctx, q)
	dirty := r.dirty
	r.dirty = nil
	r.mu.Unlock()
	if dirty != nil {
		r.reconcile(dirty)
	}
	return rep, err
}

// reconcile makes listeners, connections and WireGuard devices follow the
// state after a change.
func (r *Router) reconcile(dirty map[string]bool) {
	r.recMu.Lock()
	defer r.recMu.Unlock()
	if r.net == nil {
		return
	}
	all := dirty == nil
	if all || dirty["/ip service"] || dirty["/certificate"] {
		if err := r.net.reconcile(); err != nil {
			r.logf("%v", err)
		}
	}
	fw := false
	for m := range dirty {
		if strings.HasPrefix(m, "/ip firewall") || strings.HasPrefix(m, "/interface") || m == "/ip address" {
			fw = true
		}
	}
	if all || fw {
		r.net.recheck()
	}
	if all || dirty["/interface wireguard"] || dirty["/interface wireguard peers"] || dirty["/ip address"] || dirty["/interface"] {
		r.reconcileWG()
	}
	if all || dirty["/system scheduler"] {
		r.mu.Lock()
		r.planSchedules()
		r.mu.Unlock()
	}
}

func (r *Router) exportCmd(q *request) (*reply, error) {
	name, ok := q.get("file")
	if !ok || name == "" {
		// Over the API, export without file= prints to the console only.
		return &reply{}, nil
	}
	if !strings.Contains(name, ".") {
		name += ".rsc"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// As on RouterOS 7, keys and passwords only with show-sensitive.
	_, show := q.get("show-sensitive")
	r.writeFile(name, r.exportText(show))
	return &reply{}, nil
}

// writeFile creates or replaces a /file entry. The caller holds r.mu.
func (r *Router) writeFile(name, contents string) {
	t := r.st.tables["/file"]
	it := r.findOne(t, name)
	if it == nil {
		it = r.st.newItem(t)
		t.items = append(t.items, it)
	}
	it.created = r.clk.now()
	it.props["name"] = name
	it.props["contents"] = contents
	it.order = []string{"name", "contents"}
}

func (r *Router) backupSave(q *request) (*reply, error) {
	for _, a := range q.args {
		switch a.Key {
		case "name", "password", "dont-encrypt", "encryption":
		default:
			return nil, errUnknownParam()
		}
	}
	// As on RouterOS 7 (since 6.43): a backup is encrypted when it is
	// given a password, unless dont-encrypt says otherwise; without one it
	// holds the whole configuration, secrets included, in the clear.
	password, _ := q.get("password")
	dont, _ := q.get("dont-encrypt")
	encrypted := password != "" && dont != "yes" && dont != "true"
	name, _ := q.get("name")
	if name == "" {
		r.mu.Lock()
		id := r.st.tables["/system identity"]
		n, _ := id.get(id.items[0], "name")
		name = n + "-" + r.clk.now().Format("20060102-1504")
		r.mu.Unlock()
	}
	if !strings.HasSuffix(name, ".backup") {
		name += ".backup"
	}
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		// The router writes the backup in the background; clients poll /file.
		select {
		case <-time.After(200 * time.Millisecond):
		case <-r.stop:
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		text := "# rossim backup\n" + r.exportLocked()
		if encrypted {
			// Not the real cipher: what matters is that nothing of the
			// configuration or the password can be read from the file.
			sum := sha256.Sum256([]byte(password + "\x00" + text))
			text = "# rossim encrypted backup (aes-sha256)\n" + hex.EncodeToString(sum[:]) + "\n"
		}
		r.writeFile(name, text)
	}()
	return &reply{}, nil
}

func (r *Router) fileRead(q *request) (*reply, error) {
	name, _ := q.get("file")
	r.mu.Lock()
	defer r.mu.Unlock()
	it := r.findOne(r.st.tables["/file"], name)
	if it == nil {
		return nil, errNoSuchItem()
	}
	data := it.props["contents"]
	off, size := 0, 4096
	if v, ok := q.get("offset"); ok {
		fmt.Sscan(v, &off)
	}
	if v, ok := q.get("chunk-size"); ok {
		fmt.Sscan(v, &size)
	}
	if off < 0 || size <= 0 || size > 65535 {
		return nil, trap(1, "invalid value for argument chunk-size")
	}
	if off > len(data) {
		off = len(data)
	}
	end := min(off+size, len(data))
	return &reply{rows: [][]arg{{{"data", data[off:end]}}}}, nil
}

// sign makes a real self-signed certificate for a /certificate entry; the
// api-ssl listener serves it once /ip service api-ssl names it.
func (r *Router) sign(q *request) (*reply, error) {
	r.mu.Lock()
	t := r.st.tables["/certificate"]
	items, err := r.resolve(t, q)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	it := items[0]
	cn, _ := t.get(it, "common-name")
	days, _ := t.get(it, "days-valid")
	name := it.props["name"]
	r.mu.Unlock()
	var nd int
	fmt.Sscan(days, &nd)
	end := time.Now().AddDate(0, 0, nd)
	cert, err := selfSigned(cn, &end)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setCert(it, name, cert)
	r.appendLog("certificate,info", "generated certificate "+name)
	return &reply{}, nil
}

// addCertLocked creates and signs a /certificate entry. Caller holds r.mu.
func (r *Router) addCertLocked(name string) error {
	t := r.st.tables["/certificate"]
	it := r.st.newItem(t)
	it.created = r.clk.now()
	it.set("name", name)
	it.set("common-name", name)
	t.items = append(t.items, it)
	// Certificates survive a reboot: the one the router had keeps serving.
	cert := r.certs[name]
	if cert == nil {
		end := time.Now().AddDate(1, 0, 0)
		var err error
		if cert, err = selfSigned(name, &end); err != nil {
			return err
		}
	}
	r.setCert(it, name, cert)
	return nil
}

// setCert records a signed certificate. Caller holds r.mu.
func (r *Router) setCert(it *item, name string, cert *tls.Certificate) {
	r.certs[name] = cert
	it.props["~fingerprint"] = fingerprint(cert)
	it.props["~private-key"] = "true"
	it.props["~issued"] = "true"
	it.props["~ca"] = "true"
	it.props["~trusted"] = "true"
	it.props["~invalid-before"] = r.formatDateTime(cert.Leaf.NotBefore)
	it.props["~invalid-after"] = r.formatDateTime(cert.Leaf.NotAfter)
	it.props["~serial-number"] = fmt.Sprintf("%X", cert.Leaf.SerialNumber)
}

// Reboot restarts the router from its current configuration: every
// connection is cut, the state is rebuilt from its export (files, users,
// certificates and the log survive), and startup schedulers fire.
func (r *Router) Reboot(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errors.New("sim: router is closed")
	}
	cfg := r.exportLocked()
	keep := map[string]*table{}
	for _, m := range []string{"/file", "/certificate", "/user", "/user group", "/log"} {
		keep[m] = r.st.tables[m]
	}
	r.mu.Unlock()
	r.severAll()
	// WireGuard sessions do not survive a reboot: the devices start afresh.
	r.recMu.Lock()
	r.mu.Lock()
	wgs := r.wgs
	r.wgs = map[string]*wgInst{}
	r.mu.Unlock()
	for _, w := range wgs {
		_ = w.shut()
		r.retire(w)
	}
	r.recMu.Unlock()
	if err := r.boot(ctx, cfg); err != nil {
		return err
	}
	r.mu.Lock()
	for m, t := range keep {
		r.st.tables[m] = t
	}
	r.appendLog("system,info", "router rebooted")
	r.mu.Unlock()
	r.reconcile(nil)
	r.fireStartup()
	return nil
}

// scriptTarget runs scripts against the router's command layer.
type scriptTarget struct {
	r    *Router
	name string
}

var _ rsc.Target = (*scriptTarget)(nil)

func (s *scriptTarget) Find(menu string, where func(get func(prop string) (string, bool)) bool) ([]string, error) {
	r := s.r
	if menu == "/interface wireguard peers" {
		r.refreshPeerStats()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.st.table(menu, false)
	if t == nil {
		return nil, fmt.Errorf("no such command or directory (%s)", menu)
	}
	var out []string
	for _, it := range t.items {
		row := r.row(t, it)
		get := func(k string) (string, bool) {
			for _, a := range row {
				if a.Key == k {
					return a.Value, true
				}
			}
			if k == "dynamic" {
				return fmt.Sprint(it.dynamic), true
			}
			return "", false
		}
		if where == nil || where(get) {
			out = append(out, formatID(it.id))
		}
	}
	if menu == "/interface" {
		for _, ref := range r.st.interfaces() {
			row := r.row(ref.t, ref.it)
			get := func(k string) (string, bool) {
				for _, a := range row {
					if a.Key == k {
						return a.Value, true
					}
				}
				return "", false
			}
			if where == nil || where(get) {
				out = append(out, formatID(ref.it.id))
			}
		}
	}
	return out, nil
}

func (s *scriptTarget) Exec(ctx context.Context, menu, verb string, args []rsc.Arg) (string, error) {
	q := &request{menu: menu, verb: verb, system: true}
	for _, a := range args {
		q.args = append(q.args, arg{a.Key, a.Value})
	}
	s.r.mu.Lock()
	_, _, terr := s.r.st.resolvePath(strings.ReplaceAll(menu, " ", "/") + "/" + verb)
	s.r.mu.Unlock()
	if terr != nil {
		return "", terr
	}
	rep, err := s.r.do(ctx, q)
	if err != nil {
		return "", err
	}
	return rep.ret, nil
}

func (s *scriptTarget) Log(ctx context.Context, topic, message string) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.appendLog("script,"+topic, message)
}

func (s *scriptTarget) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(s.r.clk.real(d))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.r.stop:
		return errors.New("sim: router stopped")
	}
}

// runScript runs source; a failure stops it and goes to /log, as RouterOS does.
func (r *Router) runScript(ctx context.Context, name, source string, scheduler bool) error {
	sc, err := rsc.ParseScript(source)
	if err == nil {
		err = sc.Run(ctx, &scriptTarget{r: r, name: name})
	}
	if err == nil {
		return nil
	}
	// What failed and where, as RouterOS writes it: "(/ip/address/add; line 1)".
	msg := strings.TrimPrefix(err.Error(), "rsc: ")
	var te *trapError
	if errors.As(err, &te) {
		msg = te.msg
	}
	var re *rsc.RunError
	if errors.As(err, &re) {
		if !errors.As(err, &te) {
			msg = strings.TrimPrefix(re.Err.Error(), "sim: ")
		}
		msg = fmt.Sprintf("%s (%s; line %d)", msg, strings.ReplaceAll(re.Command, " ", "/"), re.Line)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if scheduler {
		r.appendLog("script,error", fmt.Sprintf("executing script from scheduler (%s) failed, please check it manually", name))
		r.appendLog("script,error,debug", fmt.Sprintf("(scheduler:%s) %s", name, msg))
		return err
	}
	r.appendLog("script,error", fmt.Sprintf("script error: %s (script %s)", msg, name))
	return err
}

func (r *Router) runScriptCmd(ctx context.Context, q *request) (*reply, error) {
	r.mu.Lock()
	t := r.st.tables["/system script"]
	items, err := r.resolve(t, q)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	it := items[0]
	src := it.props["source"]
	name := it.props["name"]
	r.runs[it.id]++
	r.mu.Unlock()
	if err := r.runScript(ctx, name, src, false); err != nil {
		return nil, trap(3, "failure: script error: %s", strings.TrimPrefix(err.Error(), "rsc: "))
	}
	return &reply{}, nil
}
