package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-routeros/routeros/v3/proto"
)

// maxWord bounds one API word; /file contents are at most about 60 KB, so
// anything near this is garbage and gets !fatal rather than an allocation.
const maxWord = 4 << 20

// maxWords bounds the words of one sentence.
const maxWords = 4096

// readWord reads one length-prefixed API word. go-routeros' proto.Reader
// cannot be used on the server side: it refuses query words ("?name=x"),
// so only the length decoding is done here; replies use proto.Writer.
func readWord(br *bufio.Reader) ([]byte, error) {
	b, err := br.ReadByte()
	if err != nil {
		return nil, err
	}
	var n, extra int
	switch {
	case b&0x80 == 0:
		n = int(b)
	case b&0xC0 == 0x80:
		n, extra = int(b&0x3F), 1
	case b&0xE0 == 0xC0:
		n, extra = int(b&0x1F), 2
	case b&0xF0 == 0xE0:
		n, extra = int(b&0x0F), 3
	case b == 0xF0:
		n, extra = 0, 4
	default:
		return nil, fmt.Errorf("sim: reserved control byte 0x%02x", b)
	}
	for i := 0; i < extra; i++ {
		c, err := br.ReadByte()
		if err != nil {
			return nil, err
		}
		n = n<<8 | int(c)
	}
	if n > maxWord || n < 0 {
		return nil, fmt.Errorf("sim: word of %d bytes is too long", n)
	}
	w := make([]byte, n)
	if _, err := io.ReadFull(br, w); err != nil {
		return nil, err
	}
	return w, nil
}

func readSentence(br *bufio.Reader) ([]string, error) {
	var words []string
	for {
		w, err := readWord(br)
		if err != nil {
			return nil, err
		}
		if len(w) == 0 {
			return words, nil
		}
		if len(words) >= maxWords {
			return nil, fmt.Errorf("sim: sentence has more than %d words", maxWords)
		}
		words = append(words, string(w))
	}
}

// apiConn is one API session.
type apiConn struct {
	r       *Router
	nc      net.Conn
	w       proto.Writer
	src     netip.Addr // the source the router sees
	service string     // "api" or "api-ssl"
	ctx     context.Context
	cancel  context.CancelFunc
	silent  atomic.Bool // the firewall now drops this connection: never answer again
	cmds    sync.WaitGroup

	mu       sync.Mutex // guards following
	loggedIn bool
	user     string
	policy   map[string]bool
	tags     map[string]*running
}

// running is a command in progress, for /cancel.
type running struct{ cancel context.CancelFunc }

func (r *Router) newAPIConn(nc net.Conn, src netip.Addr, service string) *apiConn {
	ctx, cancel := context.WithCancel(context.Background())
	return &apiConn{r: r, nc: nc, w: proto.NewWriter(nc), src: src, service: service, ctx: ctx, cancel: cancel, tags: map[string]*running{}}
}

// serve reads sentences until the connection ends. Untagged commands run in
// order; tagged ones run concurrently and answer independently.
func (c *apiConn) serve() {
	defer func() {
		c.cancel()
		c.cmds.Wait()
		c.w.Close()
		c.nc.Close()
	}()
	br := bufio.NewReader(c.nc)
	for {
		words, err := readSentence(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !c.silent.Load() {
				c.r.logf("sim: api %s: %v", c.src, err)
				if strings.HasPrefix(err.Error(), "sim:") {
					c.send("", "!fatal", arg{"", strings.TrimPrefix(err.Error(), "sim: ")})
				}
			}
			return
		}
		if len(words) == 0 || c.silent.Load() {
			continue // empty sentences are ignored, as RouterOS does
		}
		tag := ""
		for _, w := range words[1:] {
			if strings.HasPrefix(w, ".tag=") {
				tag = w[5:]
			}
		}
		if words[0] == "/quit" {
			c.send(tag, "!fatal", arg{"", "session terminated on request"})
			return
		}
		if tag == "" && !isFollow(words) {
			c.handle(c.ctx, tag, words)
			continue
		}
		ctx, cancel := context.WithCancel(c.ctx)
		e := &running{cancel: cancel}
		c.mu.Lock()
		c.tags[tag] = e // a reused tag: /cancel reaches the newest command
		c.mu.Unlock()
		c.cmds.Add(1)
		go func() {
			defer c.cmds.Done()
			defer cancel()
			c.handle(ctx, tag, words)
			c.mu.Lock()
			if c.tags[tag] == e {
				delete(c.tags, tag)
			}
			c.mu.Unlock()
		}()
	}
}

// isFollow reports a print that runs until cancelled; untagged, it still
// runs on its own so that /cancel can be read.
func isFollow(words []string) bool {
	if strings.HasSuffix(words[0], "/listen") {
		return true
	}
	for _, w := range words[1:] {
		if strings.HasPrefix(w, "=follow=") || strings.HasPrefix(w, "=follow-only=") || w == "=follow" || w == "=follow-only" {
			return true
		}
	}
	return false
}

// send writes one reply sentence; attribute keys "" write a bare word.
// Replies leave through the output chain, which rossim does not filter, so
// even a connection the input chain now drops gets the answers to the
// commands it already sent.
func (c *apiConn) send(tag, word string, attrs ...arg) {
	c.w.BeginSentence()
	c.w.WriteWord(word)
	for _, a := range attrs {
		if a.Key == "" {
			c.w.WriteWord("=message=" + a.Value)
			continue
		}
		c.w.WriteWord("=" + a.Key + "=" + a.Value)
	}
	if tag != "" {
		c.w.WriteWord(".tag=" + tag)
	}
	if err := c.w.EndSentence(); err != nil {
		c.nc.Close()
	}
}

func (c *apiConn) sendTrap(tag string, err error) {
	var te *trapError
	if !errors.As(err, &te) {
		te = trap(-1, "failure: %s", strings.TrimPrefix(err.Error(), "sim: "))
	}
	msgs := append([]string{te.msg}, te.extra...)
	for i, m := range msgs {
		attrs := []arg{}
		if i == 0 && te.category >= 0 {
			attrs = append(attrs, arg{"category", fmt.Sprint(te.category)})
		}
		attrs = append(attrs, arg{"message", m})
		c.send(tag, "!trap", attrs...)
	}
	c.send(tag, "!done")
}

// handle runs one command and answers it.
func (c *apiConn) handle(ctx context.Context, tag string, words []string) {
	r := c.r
	cmd := words[0]
	var args []arg
	var queries []string
	for _, w := range words[1:] {
		switch {
		case strings.HasPrefix(w, ".tag="):
		case strings.HasPrefix(w, "="):
			k, v, _ := strings.Cut(w[1:], "=")
			args = append(args, arg{k, v})
		case strings.HasPrefix(w, "?"):
			queries = append(queries, w)
		case strings.HasPrefix(w, ".proplist="):
			args = append(args, arg{".proplist", w[len(".proplist="):]})
		default:
			r.wait(ctx)
			c.sendTrap(tag, errUnknownParam())
			return
		}
	}
	if cmd == "/cancel" {
		r.wait(ctx)
		if t, ok := argValue(args, "tag"); ok {
			c.mu.Lock()
			e := c.tags[t]
			c.mu.Unlock()
			if e == nil {
				c.sendTrap(tag, trap(-1, "unknown command tag"))
				return
			}
			e.cancel()
		} else {
			c.mu.Lock()
			for t, e := range c.tags {
				// An untagged /cancel is not in tags itself: it stops everything.
				if tag == "" || t != tag {
					e.cancel()
				}
			}
			c.mu.Unlock()
		}
		c.send(tag, "!done")
		return
	}
	if cmd == "/login" {
		r.wait(ctx)
		c.login(tag, args)
		return
	}
	c.mu.Lock()
	logged, policy := c.loggedIn, c.policy
	c.mu.Unlock()
	if !logged {
		r.wait(ctx)
		c.sendTrap(tag, trap(-1, "not logged in"))
		return
	}
	rep, sever, err := r.command(ctx, cmd, args, queries, policy, c)
	if sever {
		r.severAll()
		return
	}
	if ctx.Err() != nil && c.ctx.Err() == nil {
		c.sendTrap(tag, trap(2, "interrupted"))
		return
	}
	r.wait(ctx)
	if err != nil {
		c.sendTrap(tag, err)
		return
	}
	for _, row := range rep.rows {
		c.send(tag, "!re", row...)
	}
	if rep.follow {
		c.follow(ctx, tag, rep)
		return
	}
	if len(rep.rows) == 0 && rep.empty && versionAtLeast(r.o.Version, "7.18") {
		c.send(tag, "!empty")
	}
	if rep.hasRet {
		c.send(tag, "!done", arg{"ret", rep.ret})
		return
	}
	c.send(tag, "!done")
}

func argValue(args []arg, k string) (string, bool) {
	for _, a := range args {
		if a.Key == k {
			return a.Value, true
		}
	}
	return "", false
}

// wait adds the configured latency before a reply.
func (r *Router) wait(ctx context.Context) {
	if r.o.Latency <= 0 {
		return
	}
	t := time.NewTimer(r.o.Latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// login checks name, password, group policy and address restriction.
func (c *apiConn) login(tag string, args []arg) {
	r := c.r
	name, _ := argValue(args, "name")
	pw, _ := argValue(args, "password")
	r.mu.Lock()
	r.stats.Commands++
	policy, ok := r.authenticate(name, pw, c.src)
	if ok {
		r.appendLog("system,info,account", fmt.Sprintf("user %s logged in from %s via %s", name, c.src, c.service))
	} else {
		r.appendLog("system,error,critical", fmt.Sprintf("login failure for user %s from %s via %s", name, c.src, c.service))
	}
	r.mu.Unlock()
	if !ok {
		c.sendTrap(tag, trap(-1, "invalid user name or password (6)"))
		return
	}
	c.mu.Lock()
	c.loggedIn, c.user, c.policy = true, name, policy
	c.mu.Unlock()
	c.send(tag, "!done")
}

// authenticate returns the user's policy when name, password, the api
// policy and the address restriction all allow the login. Caller holds r.mu.
func (r *Router) authenticate(name, pw string, src netip.Addr) (map[string]bool, bool) {
	users := r.st.tables["/user"]
	// By name only: a user may be named like an id ("*1F") or a number.
	var u *item
	for _, it := range users.items {
		if it.props["name"] == name {
			u = it
			break
		}
	}
	if u == nil || users.disabled(u) || u.props["password"] != pw {
		return nil, false
	}
	if a := u.props["address"]; a != "" && !addrInList(a, src) {
		return nil, false
	}
	gt := r.st.tables["/user group"]
	g := r.findOne(gt, u.props["group"])
	if g == nil {
		return nil, false
	}
	pol, _ := gt.get(g, "policy")
	policy := map[string]bool{}
	for _, p := range strings.Split(pol, ",") {
		if p != "" && p[0] != '!' {
			policy[p] = true
		}
	}
	if !policy["api"] {
		return nil, false
	}
	return policy, true
}

// addrInList reports whether a is in a comma list of addresses and prefixes.
func addrInList(list string, a netip.Addr) bool {
	for _, s := range splitList(list) {
		if p, err := netip.ParsePrefix(s); err == nil && p.Contains(a.Unmap()) {
			return true
		}
		if b, err := netip.ParseAddr(s); err == nil && b == a.Unmap() {
			return true
		}
	}
	return false
}

// follow streams changes to a followed print: changed and new rows as
// !re, removed ones as !re =.id=X =.dead=yes, until /cancel or the end of
// the session, which RouterOS answers with an interrupted trap.
func (c *apiConn) follow(ctx context.Context, tag string, rep *reply) {
	r := c.r
	sub := r.subscribe(rep.again.menu)
	defer r.unsubscribe(rep.again.menu, sub)
	last := rowMap(rep.rowsAll)
	// The first pass runs at once: a change made between the print and
	// the subscription signalled nobody.
	for {
		if now, err := r.do(ctx, rep.again); err == nil {
			cur := rowMap(now.rows)
			for _, row := range now.rows {
				id := rowID(row)
				if last[id] != rowText(row) {
					c.send(tag, "!re", row...)
				}
			}
			for id := range last {
				if _, ok := cur[id]; !ok && id != "" {
					c.send(tag, "!re", arg{".id", id}, arg{".dead", "yes"})
				}
			}
			last = cur
		}
		select {
		case <-ctx.Done():
			c.sendTrap(tag, trap(2, "interrupted"))
			return
		case <-sub:
		}
	}
}

func rowID(row []arg) string {
	for _, a := range row {
		if a.Key == ".id" {
			return a.Value
		}
	}
	return ""
}

func rowText(row []arg) string {
	var b strings.Builder
	for _, a := range row {
		b.WriteString(a.Key + "=" + a.Value + "\x00")
	}
	return b.String()
}

func rowMap(rows [][]arg) map[string]string {
	m := map[string]string{}
	for _, row := range rows {
		m[rowID(row)] = rowText(row)
	}
	return m
}
