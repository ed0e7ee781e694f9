package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// probeTimeout bounds each network probe.
const probeTimeout = 2 * time.Second

// probeConnect dials addr over TCP and prints "connect ADDR ok" or
// "connect ADDR fail: ERR". A failed dial is a result, not an error.
func probeConnect(w io.Writer, addr string) error {
	c, err := net.DialTimeout("tcp", addr, probeTimeout)
	if err != nil {
		_, werr := fmt.Fprintf(w, "connect %s fail: %v\n", addr, err)
		return werr
	}
	c.Close()
	_, err = fmt.Fprintf(w, "connect %s ok\n", addr)
	return err
}

// probeLookup resolves name and prints "lookup NAME ok ADDRS" or
// "lookup NAME fail: ERR".
func probeLookup(w io.Writer, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		_, werr := fmt.Fprintf(w, "lookup %s fail: %v\n", name, err)
		return werr
	}
	_, err = fmt.Fprintf(w, "lookup %s ok %s\n", name, strings.Join(addrs, ","))
	return err
}

// probeProxyGet fetches url through $HTTP_PROXY and prints
// "proxyget URL status=CODE body=FIRST-LINE" or "proxyget URL fail: ERR".
func probeProxyGet(w io.Writer, url string) error {
	client := &http.Client{
		Timeout:   probeTimeout,
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment},
	}
	resp, err := client.Get(url)
	if err != nil {
		_, werr := fmt.Fprintf(w, "proxyget %s fail: %v\n", url, err)
		return werr
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	body, _, _ := strings.Cut(string(b), "\n")
	_, err = fmt.Fprintf(w, "proxyget %s status=%d body=%s\n", url, resp.StatusCode, body)
	return err
}
