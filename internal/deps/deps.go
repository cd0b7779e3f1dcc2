//go:build tools

// Package deps pins the project's module dependencies so that go.mod stays
// stable while packages that use them are written in parallel.
package deps

import (
	_ "github.com/charmbracelet/bubbles/spinner"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/huh"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/charmbracelet/x/exp/teatest"
	_ "github.com/go-routeros/routeros/v3"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/muesli/termenv"
	_ "github.com/skip2/go-qrcode"
	_ "github.com/spf13/cobra"
	_ "golang.zx2c4.com/wireguard/device"
	_ "golang.zx2c4.com/wireguard/tun/netstack"
	_ "golang.zx2c4.com/wireguard/wgctrl"
	_ "gopkg.in/yaml.v3"
)
