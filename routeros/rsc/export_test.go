package rsc

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// ignoreLines compares Files without their line numbers (Format does not
// keep them).
var ignoreLines = cmpopts.IgnoreFields(Command{}, "Line")

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *File
	}{
		{
			name: "header and one block",
			in: "# 2026-11-02 09:14:11 by RouterOS 7.16.2\n# software id = AB12-CD34\n#\n# model = RB951Ui-2nD\n" +
				"/ip firewall filter\nadd action=accept chain=input comment=\"defconf: accept ICMP\" protocol=icmp\n",
			want: &File{
				Header: []string{"# 2026-11-02 09:14:11 by RouterOS 7.16.2", "# software id = AB12-CD34", "#", "# model = RB951Ui-2nD"},
				Blocks: []Block{{Menu: "/ip firewall filter", Commands: []Command{{Line: 6, Verb: "add", Args: []Arg{
					{"action", "accept"}, {"chain", "input"}, {"comment", "defconf: accept ICMP"}, {"protocol", "icmp"}}}}}},
			},
		},
		{
			name: "continuation between arguments, after key= and inside a quoted value",
			in: "/ip firewall filter\n" +
				"add action=accept chain=input comment=\\\n    \"defconf: accept established,related,untracked\" connection-state=\\\n    established,related,untracked\n" +
				"add action=drop chain=input comment=\"defconf: acce\\\n    pt established\" \\\n    in-interface-list=!LAN\n",
			want: &File{Blocks: []Block{{Menu: "/ip firewall filter", Commands: []Command{
				{Line: 2, Verb: "add", Args: []Arg{{"action", "accept"}, {"chain", "input"}, {"comment", "defconf: accept established,related,untracked"}, {"connection-state", "established,related,untracked"}}},
				{Line: 5, Verb: "add", Args: []Arg{{"action", "drop"}, {"chain", "input"}, {"comment", "defconf: accept established"}, {"in-interface-list", "!LAN"}}},
			}}}},
		},
		{
			name: "find targets",
			in: "/interface ethernet\nset [ find default-name=ether1 ] name=wan\n" +
				"/interface wireless security-profiles\nset [ find default=yes ] supplicant-identity=MikroTik\n" +
				"/user\nset [ find where name=admin ] group=full\nset [ find ] disabled=no\n",
			want: &File{Blocks: []Block{
				{Menu: "/interface ethernet", Commands: []Command{{Line: 2, Verb: "set", Find: &Where{Op: "=", Prop: "default-name", Value: "ether1"}, Args: []Arg{{"name", "wan"}}}}},
				{Menu: "/interface wireless security-profiles", Commands: []Command{{Line: 4, Verb: "set", Find: &Where{Op: "=", Prop: "default", Value: "yes"}, Args: []Arg{{"supplicant-identity", "MikroTik"}}}}},
				{Menu: "/user", Commands: []Command{
					{Line: 6, Verb: "set", Find: &Where{Op: "=", Prop: "name", Value: "admin"}, Args: []Arg{{"group", "full"}}},
					{Line: 7, Verb: "set", Find: &Where{}, Args: []Arg{{"disabled", "no"}}},
				}},
			}},
		},
		{
			name: "find with several conditions",
			in:   "/ip firewall filter\nset [ find where chain=input and (comment~\"^wgboot:\" or !disabled) ] log=yes\n",
			want: &File{Blocks: []Block{{Menu: "/ip firewall filter", Commands: []Command{{Line: 2, Verb: "set",
				Find: &Where{Op: "and", Args: []*Where{
					{Op: "=", Prop: "chain", Value: "input"},
					{Op: "or", Args: []*Where{{Op: "~", Prop: "comment", Value: "^wgboot:"}, {Op: "not", Args: []*Where{{Op: "has", Prop: "disabled"}}}}},
				}},
				Args: []Arg{{"log", "yes"}}}}}}},
		},
		{
			name: "named targets, single-item set and menu with command on one line",
			in: "/ip service\nset api-ssl certificate=x\nset www disabled=yes\n" +
				"/system identity\nset name=R1\n/ip cloud set ddns-enabled=yes\n/ip service set api disabled=yes\nset telnet disabled=yes\n",
			want: &File{Blocks: []Block{
				{Menu: "/ip service", Commands: []Command{
					{Line: 2, Verb: "set", Target: "api-ssl", Args: []Arg{{"certificate", "x"}}},
					{Line: 3, Verb: "set", Target: "www", Args: []Arg{{"disabled", "yes"}}},
				}},
				{Menu: "/system identity", Commands: []Command{{Line: 5, Verb: "set", Args: []Arg{{"name", "R1"}}}}},
				{Menu: "/ip cloud", Commands: []Command{{Line: 6, Verb: "set", Args: []Arg{{"ddns-enabled", "yes"}}}}},
				{Menu: "/ip service", Commands: []Command{
					{Line: 7, Verb: "set", Target: "api", Args: []Arg{{"disabled", "yes"}}},
					{Line: 8, Verb: "set", Target: "telnet", Args: []Arg{{"disabled", "yes"}}},
				}},
			}},
		},
		{
			name: "escapes",
			in:   `/system identity` + "\n" + `set name="q\" b\\ n\n t\t d\$ w\? s\_x h\D0\9F"` + "\n",
			want: &File{Blocks: []Block{{Menu: "/system identity", Commands: []Command{{Line: 2, Verb: "set", Args: []Arg{
				{"name", "q\" b\\ n\n t\t d$ w? s x h\u041f"}}}}}}},
		},
		{
			name: "comments, blank lines, CRLF, semicolons and slash paths",
			in:   "# header\r\n\r\n/ip/address\r\n# a note\r\nadd address=10.0.0.1/24 interface=ether2; add address=10.0.1.1/24 interface=ether3\r\n\r\n",
			want: &File{Header: []string{"# header"}, Blocks: []Block{{Menu: "/ip address", Commands: []Command{
				{Line: 5, Verb: "add", Args: []Arg{{"address", "10.0.0.1/24"}, {"interface", "ether2"}}},
				{Line: 5, Verb: "add", Args: []Arg{{"address", "10.0.1.1/24"}, {"interface", "ether3"}}},
			}}}},
		},
		{
			name: "empty value, ids and move",
			in:   "/ip firewall filter\nset *1F comment=\"\" log-prefix=\"\"\nremove *5\nmove *7 destination=*3\n",
			want: &File{Blocks: []Block{{Menu: "/ip firewall filter", Commands: []Command{
				{Line: 2, Verb: "set", Target: "*1F", Args: []Arg{{"comment", ""}, {"log-prefix", ""}}},
				{Line: 3, Verb: "remove", Target: "*5"},
				{Line: 4, Verb: "move", Target: "*7", Args: []Arg{{"destination", "*3"}}},
			}}}},
		},
		{
			name: "multi-line script value as RouterOS exports it",
			in:   "/system script\nadd dont-require-permissions=no name=s1 owner=admin policy=\\\n    read,write source=\":\\\n    log info \\\"hello\\\"\\r\\\n    \\n:delay 1s\"\n",
			want: &File{Blocks: []Block{{Menu: "/system script", Commands: []Command{{Line: 2, Verb: "add", Args: []Arg{
				{"dont-require-permissions", "no"}, {"name", "s1"}, {"owner", "admin"}, {"policy", "read,write"},
				{"source", ":log info \"hello\"\r\n:delay 1s"}}}}}}},
		},
		{
			name: "empty input",
			in:   "",
			want: &File{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseString(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unterminated string", "/ip address\n\nadd comment=\"abc\n", "rsc: line 3: unterminated quoted string"},
		{"unterminated at end of input", "/ip address\nadd comment=\"abc", "rsc: line 2: unterminated quoted string"},
		{"command without menu", "add name=x\n", "rsc: line 1: add without a menu line before it (like /ip address)"},
		{"unknown command", "/ip address\nfrobnicate x=y\n", `rsc: line 2: unknown command "frobnicate"`},
		{"unknown escape", "/ip address\nadd comment=\"a\\qb\"\n", `rsc: line 2: unknown escape sequence \q in quoted string (hex escapes use two capital digits, like \1F)`},
		{"lowercase hex", "/ip address\nadd comment=\"\\d0\"\n", `rsc: line 2: unknown escape sequence \d in quoted string (hex escapes use two capital digits, like \1F)`},
		{"unescaped dollar", "/ip address\nadd comment=\"a$b\"\n", `rsc: line 2: unescaped $ in quoted string (write \$)`},
		{"junk after quoted value", "/ip address\nadd comment=\"a\"b\n", `rsc: line 2: unexpected 'b' right after a value`},
		{"quote inside bare value", "/ip address\nadd comment=a\"b\"\n", `rsc: line 2: unexpected '"' in value "a\"b\"" (quote values with special characters)`},
		{"script in export", "/ip address\n:foreach i in=[find] do={}\n", "rsc: line 2: script command in an export (only menus and commands are allowed here)"},
		{"variable in export", "/ip address\nadd comment=$x\n", `rsc: line 2: unexpected '$' in value "$x" (quote values with special characters)`},
		{"stray positional", "/ip address\nadd 10.0.0.1/24\n", "rsc: line 2: add: unexpected value before or between arguments (arguments are written key=value)"},
		{"substitution other than find", "/ip address\nset [ print ] disabled=yes\n", "rsc: line 2: only [ find ... ] is allowed in an export, found [ print"},
		{"missing bracket", "/ip address\nset [ find name=x disabled=yes\n", "rsc: line 2: missing ] after find"},
		{"bad regexp", "/ip address\nset [ find where comment~\"(\" ] disabled=yes\n", "rsc: line 2: bad regular expression \"(\": error parsing regexp: missing closing ): `(`"},
		{"error line counts continuations", "/ip address\nadd address=\\\n    10.0.0.1/24 comment=\"x\n", "rsc: line 3: unterminated quoted string"},
		{"missing verb", "/ip address address=10.0.0.1/24\n", "rsc: line 1: address= follows the menu without a command (like add or set) before it"},
		{"bad menu", "/ip \"x\"\n", `rsc: line 1: unexpected '"' in menu path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseString(tt.in)
			got := "<nil>"
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileHeader(t *testing.T) {
	f, err := ParseString("# 2026-11-02 09:14:11 by RouterOS 7.16.2\n# software id = X\n#\n# model = C52iG-5HaxD2HaxD\n/system identity\nset name=a\n# not header\n/ip address\n/system identity set name=b\n")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{f.Version(), f.Model(), strings.Join(f.Header, "|"), commandLines(f.Commands("/system identity"))}
	want := []string{"7.16.2", "C52iG-5HaxD2HaxD", "# 2026-11-02 09:14:11 by RouterOS 7.16.2|# software id = X|#|# model = C52iG-5HaxD2HaxD", "set name=a|set name=b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

func commandLines(cmds []Command) string {
	var out []string
	for _, c := range cmds {
		out = append(out, FormatCommand("", c))
	}
	return strings.Join(out, "|")
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ether1", "ether1"},
		{"192.168.88.1/24", "192.168.88.1/24"},
		{"!LAN", "!LAN"},
		{"established,related,untracked", "established,related,untracked"},
		{"AA:BB:CC:DD:EE:FF", "AA:BB:CC:DD:EE:FF"},
		{"*1F", "*1F"},
		{"", `""`},
		{"defconf: accept ICMP", `"defconf: accept ICMP"`},
		{"wgboot: x", `"wgboot: x"`},
		{"O+UipmkA8qHwDAnjcW6M5Ze9RVRcguFXsG5VgPv35UA=", `"O+UipmkA8qHwDAnjcW6M5Ze9RVRcguFXsG5VgPv35UA="`},
		{`say "hi"`, `"say \"hi\""`},
		{`a\b`, `"a\\b"`},
		{"$x?", `"\$x\?"`},
		{"l1\r\nl2\tx", `"l1\r\nl2\tx"`},
		{"\x01\x7f", `"\01\7F"`},
		{"Привет", `"\D0\9F\D1\80\D0\B8\D0\B2\D0\B5\D1\82"`},
		{"[find]", `"[find]"`},
		{"a;b", `"a;b"`},
		{"a#b", `"a#b"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := Quote(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Quote(%q) (-want +got):\n%s", tt.in, diff)
			}
			// Every quoted form reads back as the value.
			f, err := ParseString("/x\nset v=" + got + "\n")
			if err != nil {
				t.Fatalf("parse back: %v", err)
			}
			if back := f.Blocks[0].Commands[0].Args[0].Value; back != tt.in {
				t.Errorf("Quote(%q) reads back as %q", tt.in, back)
			}
		})
	}
}

func TestFormatCommand(t *testing.T) {
	tests := []struct {
		name, menu string
		cmd        Command
		want       string
	}{
		{"add with quoted comment", "/ip firewall filter",
			Command{Verb: "add", Args: []Arg{{"action", "accept"}, {"chain", "input"}, {"comment", "wgboot: x"}}},
			`/ip firewall filter add action=accept chain=input comment="wgboot: x"`},
		{"named target", "/ip service", Command{Verb: "set", Target: "api-ssl", Args: []Arg{{"disabled", "no"}}},
			"/ip service set api-ssl disabled=no"},
		{"find target", "/interface ethernet", Command{Verb: "set", Find: &Where{Op: "=", Prop: "default-name", Value: "ether1"}, Args: []Arg{{"name", "wan"}}},
			"/interface ethernet set [ find default-name=ether1 ] name=wan"},
		{"find all", "/user", Command{Verb: "set", Find: &Where{}, Args: []Arg{{"disabled", "no"}}},
			"/user set [ find ] disabled=no"},
		{"find where", "/ip firewall filter", Command{Verb: "remove", Find: &Where{Op: "~", Prop: "comment", Value: "^wgboot:"}},
			`/ip firewall filter remove [ find where comment~"^wgboot:" ]`},
		{"find with and of equalities", "/ip firewall filter", Command{Verb: "remove", Find: &Where{Op: "and", Args: []*Where{{Op: "=", Prop: "chain", Value: "input"}, {Op: "=", Prop: "comment", Value: "a b"}}}},
			`/ip firewall filter remove [ find chain=input comment="a b" ]`},
		{"no menu", "", Command{Verb: "set", Args: []Arg{{"name", "x"}}}, "set name=x"},
		{"root menu", "/", Command{Verb: "export", Args: []Arg{{"file", "x"}}}, "/export file=x"},
		{"args kept in order", "/ip address", Command{Verb: "add", Args: []Arg{{"interface", "wg0"}, {"address", "10.77.0.1/24"}}},
			"/ip address add interface=wg0 address=10.77.0.1/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FormatCommand(tt.menu, tt.cmd)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FormatCommand (-want +got):\n%s", diff)
			}
			if tt.menu == "" {
				return
			}
			f, err := ParseString(got)
			if err != nil {
				t.Fatalf("parse back: %v", err)
			}
			want := &File{Blocks: []Block{{Menu: tt.menu, Commands: []Command{tt.cmd}}}}
			if diff := cmp.Diff(want, f, ignoreLines); diff != "" {
				t.Errorf("parse back (-want +got):\n%s", diff)
			}
		})
	}
}

// formatCases are Files whose Format output is kept as golden files.
var formatCases = []struct {
	name string
	file *File
}{
	{"defconf_filter", &File{
		Header: []string{"# 2026-11-02 09:14:11 by RouterOS 7.20.6", "model = RBD52G-5HacD2HnD"},
		Blocks: []Block{{Menu: "/ip firewall filter", Commands: []Command{
			{Verb: "add", Args: []Arg{{"action", "accept"}, {"chain", "input"}, {"comment", "defconf: accept established,related,untracked"}, {"connection-state", "established,related,untracked"}}},
			{Verb: "add", Args: []Arg{{"action", "drop"}, {"chain", "input"}, {"comment", "defconf: drop all not coming from LAN"}, {"in-interface-list", "!LAN"}}},
			{Verb: "add", Args: []Arg{{"action", "drop"}, {"chain", "forward"}, {"comment", "defconf: drop all from WAN not DSTNATed"}, {"connection-nat-state", "!dstnat"}, {"connection-state", "new"}, {"in-interface-list", "WAN"}}},
		}}},
	}},
	{"long_script_value", &File{Blocks: []Block{{Menu: "/system scheduler", Commands: []Command{
		{Verb: "add", Args: []Arg{{"comment", "wgboot: rollback"}, {"interval", "0s"}, {"name", "wgboot-rollback"},
			{"on-event", "/ip firewall filter remove [find where comment~\"^wgboot:\"]\r\n/interface wireguard peers remove [find where comment~\"^wgboot:\"]\r\n:log warning \"wgboot: rolled back\"\r\n/system scheduler remove [find name=\"wgboot-rollback\"]"},
			{"policy", "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon"}, {"start-date", "2026-11-02"}, {"start-time", "09:19:11"}}},
	}}}}},
	{"spaces_at_wrap_points", &File{Blocks: []Block{{Menu: "/ip firewall filter", Commands: []Command{
		{Verb: "add", Args: []Arg{{"chain", "input"}, {"comment", "x" + strings.Repeat(" ", 150) + "y"}}},
		{Verb: "add", Args: []Arg{{"chain", "input"}, {"comment", strings.Repeat("\\$\"é", 40)}}},
		{Verb: "set", Target: "a very long target name with spaces that will not fit on one line at all, no way", Args: []Arg{{"x", "y"}}},
		{Verb: "add", Args: []Arg{{"address-list", strings.Repeat("a", 100)}, {"b", "c"}}},
	}}}}},
}

func TestFormatGolden(t *testing.T) {
	for _, tt := range formatCases {
		t.Run(tt.name, func(t *testing.T) {
			got := Format(tt.file)
			path := filepath.Join("testdata", "TestFormatGolden_"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("Format (-want +got):\n%s", diff)
			}
			back, err := ParseString(got)
			if err != nil {
				t.Fatalf("parse Format output: %v", err)
			}
			wantFile := *tt.file
			wantFile.Header = nil
			for _, h := range tt.file.Header {
				if !strings.HasPrefix(h, "#") {
					h = "# " + h
				}
				wantFile.Header = append(wantFile.Header, h)
			}
			if diff := cmp.Diff(&wantFile, back, ignoreLines); diff != "" {
				t.Errorf("Parse(Format(f)) (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExamples parses every examples/*.rsc; they are written in canonical
// export form, so formatting them again must give the same text.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.rsc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("found %d example files, want at least 8", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseString(string(data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Version() == "" || len(f.Blocks) == 0 {
				t.Errorf("version %q, %d blocks: want a RouterOS header and commands", f.Version(), len(f.Blocks))
			}
			if !strings.Contains(strings.Join(f.Header, "\n"), "# wgboot-example: ") {
				t.Errorf("header lacks a '# wgboot-example:' wiring line")
			}
			if diff := cmp.Diff(string(data), Format(f)); diff != "" {
				t.Errorf("Format(Parse(file)) (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRoundTrip checks Parse(Format(Parse(x))) == Parse(x) on hand-written
// inputs that are not in canonical form.
func TestRoundTrip(t *testing.T) {
	inputs := []string{
		"/ip firewall filter\nadd chain=input comment=\"defconf: acce\\\n    pt established\" action=accept\n",
		"/ip/service set api disabled=yes; set www disabled=yes\n/system identity set name=\"r 1\"\n",
		"/interface ethernet\nset [ find where default-name=ether1 or !(name=x and disabled) ] comment=\"\\D0\\9F\\_\"\n",
		"/ip firewall filter\nmove *7 destination=*3\nremove *5\nset *1F disabled=no\n",
	}
	for _, in := range inputs {
		first, err := ParseString(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		out := Format(first)
		second, err := ParseString(out)
		if err != nil {
			t.Fatalf("Parse(Format(%q)) = %v\n%s", in, err, out)
		}
		if diff := cmp.Diff(first, second, ignoreLines); diff != "" {
			t.Errorf("round trip of %q (-want +got):\n%s", in, diff)
		}
	}
}

func clearLines(f *File) {
	for i := range f.Blocks {
		for j := range f.Blocks[i].Commands {
			f.Blocks[i].Commands[j].Line = 0
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("/ip firewall filter\nadd action=accept chain=input comment=\\\n    \"defconf: acce\\\n    pt\" in-interface-list=!LAN\n")
	f.Add("# by RouterOS 7.1\n/interface ethernet\nset [ find default-name=ether1 ] name=wan\n/ip service set api disabled=yes\n")
	f.Add("/system identity\nset name=\"\\D0\\9F \\$ \\? \\_ \\\\ \\\"\"\n")
	f.Add("/x\nset [ find where a~\"b\" and (c=d or !e) ] f=g\nmove *1 destination=*2\n")
	if data, err := os.ReadFile(filepath.Join("..", "..", "examples", "soho-defconf.rsc")); err == nil {
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, in string) {
		first, err := ParseString(in)
		if err != nil {
			return
		}
		out := Format(first)
		second, err := ParseString(out)
		if err != nil {
			t.Fatalf("Format output does not parse: %v\ninput: %q\noutput: %q", err, in, out)
		}
		// reflect.DeepEqual first: cmp.Diff is slow enough to stall the
		// fuzzer's minimizer on large inputs.
		clearLines(first)
		clearLines(second)
		if reflect.DeepEqual(first, second) {
			return
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s\ninput: %q\noutput: %q", diff, in, out)
		}
	})
}

// TestFormatCommandRefs: commands that name items by script expression,
// as wgboot's plan, undo and removal scripts write them. Every value in a
// reference is quoted, so a hostile name or .id stays a string.
func TestFormatCommandRefs(t *testing.T) {
	tests := []struct {
		name, menu string
		cmd        Command
		want       string
	}{
		{"remove by tag", "/ip firewall filter", Command{Verb: "remove", Ref: FindWhere("comment", "wgboot:r1 api")},
			`/ip firewall filter remove [find where comment="wgboot:r1 api"]`},
		{"find literal always a string", "/user", Command{Verb: "set", Ref: FindWhere("name", "123"), Args: []Arg{{"group", "full"}}},
			`/user set [find where name="123"] group=full`},
		{"hostile name stays quoted", "/user", Command{Verb: "set", Ref: FindWhere("name", `x"];/system reset;:put "`), Args: []Arg{{"group", "full"}}},
			`/user set [find where name="x\"];/system reset;:put \""] group=full`},
		{"set by id", "/ip service", Command{Verb: "set", Ref: IDRef("*1F"), Args: []Arg{{"address", "10.0.0.0/8,10.77.0.0/24"}}},
			"/ip service set *1F address=10.0.0.0/8,10.77.0.0/24"},
		{"hostile id quoted", "/ip service", Command{Verb: "set", Ref: IDRef("*1 ; /system reset"), Args: []Arg{{"disabled", "yes"}}},
			`/ip service set "*1 ; /system reset" disabled=yes`},
		{"add placed before", "/ip firewall filter", Command{Verb: "add", Args: []Arg{{"chain", "input"}, {"comment", "wgboot:r1 b"}},
			RefArgs: []RefArg{{"place-before", FindWhere("comment", "wgboot:r1 a")}}},
			`/ip firewall filter add chain=input comment="wgboot:r1 b" place-before=[find where comment="wgboot:r1 a"]`},
		{"move to an id", "/ip firewall filter", Command{Verb: "move", Ref: IDRef("*5"), RefArgs: []RefArg{{"destination", IDRef("*2")}}},
			"/ip firewall filter move *5 destination=*2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FormatCommand(tt.menu, tt.cmd)
			if got != tt.want {
				t.Errorf("FormatCommand =\n%s\nwant\n%s", got, tt.want)
			}
			if _, err := ParseScript(got + "\n"); err != nil {
				t.Errorf("the line does not parse as a script: %v", err)
			}
		})
	}
}
