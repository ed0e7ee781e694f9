package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
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
	// Always through $HTTP_PROXY, even for names NO_PROXY or Go's own
	// rules would send direct (localhost): the probe is of the proxy.
	client := &http.Client{
		Timeout: probeTimeout,
		Transport: &http.Transport{Proxy: func(*http.Request) (*neturl.URL, error) {
			if p := os.Getenv("HTTP_PROXY"); p != "" {
				return neturl.Parse(p)
			}
			return nil, nil
		}},
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

// probeProxyLeak sends GET url through $HTTP_PROXY with the value of the
// environment variable name in an X-Debug header, as an agent tricked
// into exfiltrating a credential would, and prints
// "proxyleak URL status=CODE body=FIRST-LINE" or "proxyleak URL fail: ERR".
func probeProxyLeak(w io.Writer, url, name string) error {
	client := &http.Client{
		Timeout: probeTimeout,
		Transport: &http.Transport{Proxy: func(*http.Request) (*neturl.URL, error) {
			if p := os.Getenv("HTTP_PROXY"); p != "" {
				return neturl.Parse(p)
			}
			return nil, nil
		}},
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Debug", os.Getenv(name))
	resp, err := client.Do(req)
	if err != nil {
		_, werr := fmt.Fprintf(w, "proxyleak %s fail: %v\n", url, err)
		return werr
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	body, _, _ := strings.Cut(string(b), "\n")
	_, err = fmt.Fprintf(w, "proxyleak %s status=%d body=%s\n", url, resp.StatusCode, body)
	return err
}

// callLLM sends one chat completion to $OPENAI_BASE_URL with
// $OPENAI_API_KEY, as an agent would, and prints the status and reply.
// It writes the reply to LLM_REPLY.md so the run has a change.
func callLLM(w io.Writer, prompt string) error {
	base := strings.TrimRight(os.Getenv("OPENAI_BASE_URL"), "/")
	if base == "" {
		_, err := fmt.Fprintln(w, "llm fail: OPENAI_BASE_URL is not set")
		return err
	}
	body, _ := json.Marshal(map[string]any{
		"model":    "test-model",
		"messages": []map[string]string{{"role": "user", "content": prompt}},
	})
	req, err := http.NewRequest(http.MethodPost, base+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("OPENAI_API_KEY"))
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: probeTimeout, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	resp, err := client.Do(req)
	if err != nil {
		_, werr := fmt.Fprintf(w, "llm fail: %v\n", err)
		return werr
	}
	defer resp.Body.Close()
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = json.Unmarshal(raw, &out)
	reply := ""
	if len(out.Choices) > 0 {
		reply = out.Choices[0].Message.Content
	}
	if _, err := fmt.Fprintf(w, "llm status=%d reply=%q\n", resp.StatusCode, reply); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	return writeFile("LLM_REPLY.md", reply+"\n", os.O_TRUNC)
}
