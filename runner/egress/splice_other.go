//go:build !linux

package egress

import (
	"io"
	"net"
)

// spliceSupported reports whether tunnels can use splice(2) here.
const spliceSupported = false

// spliceCopiers reports false: splice(2) is Linux only, so relay copies.
func spliceCopiers(net.Conn, io.Reader, net.Conn) (upload, download func() error, ok bool) {
	return nil, nil, false
}
