// Package vpn runs the technician's side of the WireGuard tunnel that
// wgboot sets up to a RouterOS router, and writes the configuration the
// technician keeps afterwards.
//
// # Backends
//
// A Backend brings the local peer up with a Config, reports the router
// peer's state (Stats), dials through the tunnel and closes. New picks one:
//
//   - "netstack": wireguard-go on gVisor's userspace network stack inside
//     this process. Needs nothing: no root, no interface, any OS. Only its UDP
//     socket is visible to the system, and DialContext reaches the tunnel
//     from this process alone. wgboot uses it to verify the tunnel and to
//     reach the router's API through it.
//   - "kernel": a real interface, Linux only, needing root or CAP_NET_ADMIN.
//     With the WireGuard kernel module the interface is created over
//     rtnetlink (what `ip link add type wireguard` does) and configured with
//     wgctrl; without it, wireguard-go runs on a TUN device (/dev/net/tun)
//     and serves its UAPI socket in /var/run/wireguard, so wgctrl and
//     `wg show` see it either way. The address and routes to the allowed IPs
//     are set over rtnetlink (github.com/mdlayher/netlink); no command is run.
//     DialContext is a plain net.Dialer: the OS routes through the interface.
//   - "auto" (the default): kernel when the process has CAP_NET_ADMIN and
//     either the module or /dev/net/tun is present, netstack otherwise; the
//     reason for falling back goes to the log. New("kernel") without those
//     returns an error wrapping ErrKernelUnavailable that names what is
//     missing.
//
// # Handshake
//
// Up triggers the first handshake at once (a keepalive with no session
// starts one; the kernel module gets a datagram into the tunnel instead)
// rather than waiting for a timer or traffic. WaitHandshake wakes on
// wireguard-go's handshake events and polls every few milliseconds besides,
// and returns at the first handshake. When its context ends first it returns
// the local Stats (bytes and initiations sent, nothing received) with
// ErrNoHandshake: WireGuard never answers a wrong key, so only the router's
// side (peer counters, firewall counters, log) can tell a filtered port from
// a bad key; that diagnosis belongs to the caller.
//
// # Keys and output
//
// GenerateKey makes keys with wgtypes; WriteKeyFile stores one with mode
// 0600 and ReadKeyFile refuses a key file others can read. Keys are never
// logged: Config and QuickConfig format themselves with the key redacted,
// log lines carry only public keys, and errors never quote key material.
// Only public keys are meant to leave the machine. WriteQuick writes the
// wg-quick(8) file (mode 0600, never replacing a different file),
// WriteQRTerminal draws it as a QR code for the WireGuard phone apps and
// WriteQRPNG writes that code as a PNG (mode 0600).
//
// # Teardown
//
// Close stops every interface, socket and goroutine a backend started. The
// kernel backend removes what it created; with KernelOptions.Keep a kernel
// module interface is left for the technician, since it outlives wgboot. A
// wireguard-go interface cannot outlive the process: the wg-quick file is
// the way back.
//
// Out of scope: the router's side of the tunnel, key generation and storage
// policy beyond file modes (the caller decides where keys live), DNS, IPv6-only underlays beyond what
// netip values carry, and platforms other than Linux for the kernel backend.
package vpn
