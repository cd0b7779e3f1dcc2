package vpn

import (
	"fmt"
	"io"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// qrLevel is the error correction of every code: a wg-quick config is about
// 250 bytes, which Medium fits in a code small enough for an 80-column
// terminal while tolerating a smudged laptop screen.
const qrLevel = qrcode.Medium

// WriteQRTerminal draws the config as a QR code for the WireGuard phone
// apps, two modules per character cell with half-block characters and a
// four-module quiet zone. Light modules are drawn as blocks, so the code
// reads correctly on the usual dark terminal background.
//
// The code carries the private key: write it to the technician's terminal
// only, never to a log.
func WriteQRTerminal(w io.Writer, q QuickConfig) error {
	text, err := q.Marshal()
	if err != nil {
		return err
	}
	code, err := qrcode.New(string(text), qrLevel)
	if err != nil {
		return fmt.Errorf("vpn: encode QR code: %w", err)
	}
	if _, err := io.WriteString(w, renderHalfBlocks(code.Bitmap())); err != nil {
		return fmt.Errorf("vpn: write QR code: %w", err)
	}
	return nil
}

// renderHalfBlocks draws a bitmap (true = dark module, quiet zone included)
// with one text row per two module rows.
func renderHalfBlocks(bm [][]bool) string {
	light := func(y, x int) bool { return y >= len(bm) || !bm[y][x] }
	var b strings.Builder
	for y := 0; y < len(bm); y += 2 {
		for x := range bm[y] {
			top, bottom := light(y, x), light(y+1, x)
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// WriteQRPNG writes the config as a QR code PNG of size×size pixels (dark
// on white) to path with mode 0600, under the rules of WriteQuick, since
// the image carries the private key.
func WriteQRPNG(path string, q QuickConfig, size int) error {
	text, err := q.Marshal()
	if err != nil {
		return err
	}
	code, err := qrcode.New(string(text), qrLevel)
	if err != nil {
		return fmt.Errorf("vpn: encode QR code: %w", err)
	}
	png, err := code.PNG(size)
	if err != nil {
		return fmt.Errorf("vpn: render QR code: %w", err)
	}
	return writeSecret(path, png)
}
