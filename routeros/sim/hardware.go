package sim

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
)

// hardware is the board a simulated router claims to be: /system resource
// board-name and architecture-name, /system routerboard model and
// serial-number, and the export header.
type hardware struct {
	model    string // product code, as the export's "# model =" line
	board    string // marketing name, as /system resource board-name
	arch     string // architecture-name
	cpu      string
	serial   string
	softID   string
	firmware string // /system routerboard firmware-type
}

// boardInfo is what rossim knows of a product code.
type boardInfo struct{ board, arch, cpu, firmware string }

// boards maps the product codes of common MikroTik routers to what they
// report. A code not listed reports itself as board-name on arm64, the
// architecture of current models.
var boards = map[string]boardInfo{
	"C52iG-5HaxD2HaxD":    {"hAP ax^2", "arm64", "ARM64", "ipq6000"},
	"C53UiG+5HPaxD2HPaxD": {"hAP ax^3", "arm64", "ARM64", "ipq6000"},
	"RBD52G-5HacD2HnD":    {"hAP ac^2", "arm", "ARM", "ipq4000L"},
	"RB5009UG+S+":         {"RB5009UG+S+", "arm64", "ARM64", "mvebu"},
	"RB4011iGS+":          {"RB4011iGS+", "arm", "ARM", "al2"},
	"RB760iGS":            {"hEX S", "mmips", "MIPS 1004Kc V2.15", "mt7621L"},
	"RB750Gr3":            {"hEX", "mmips", "MIPS 1004Kc V2.15", "mt7621L"},
	"CCR2004-1G-12S+2XS":  {"CCR2004-1G-12S+2XS", "arm64", "ARM64", "al52400"},
	"RBSXTsq5nD":          {"SXTsq 5", "mipsbe", "MIPS 24Kc V7.4", "qca9531L"},
}

// defaultModel is the board of a router whose configuration names none.
const defaultModel = "C52iG-5HaxD2HaxD"

var (
	modelRe  = regexp.MustCompile(`(?m)^#\s*model\s*=\s*(.+?)\s*$`)
	serialRe = regexp.MustCompile(`(?m)^#\s*serial number\s*=\s*(.+?)\s*$`)
	softIDRe = regexp.MustCompile(`(?m)^#\s*software id\s*=\s*(.+?)\s*$`)
)

// hardwareOf reads the board from an export's header comments (model,
// serial number, software id); what the header lacks gets a realistic
// default, derived from the config so that it stays the same across
// reboots.
func hardwareOf(config string) hardware {
	h := hardware{model: defaultModel}
	if m := modelRe.FindStringSubmatch(config); m != nil && m[1] != "" {
		h.model = m[1]
	}
	info, ok := boards[h.model]
	if !ok {
		info = boardInfo{board: h.model, arch: "arm64", cpu: "ARM64", firmware: "unknown"}
	}
	h.board, h.arch, h.cpu, h.firmware = info.board, info.arch, info.cpu, info.firmware
	sum := sha256.Sum256([]byte(h.model))
	h.serial = fmt.Sprintf("HF%X", sum[:5])
	if m := serialRe.FindStringSubmatch(config); m != nil && m[1] != "" {
		h.serial = m[1]
	}
	h.softID = strings.ToUpper(fmt.Sprintf("%X-%X", sum[5:7], sum[7:9]))
	if m := softIDRe.FindStringSubmatch(config); m != nil && m[1] != "" {
		h.softID = m[1]
	}
	return h
}
