package runner

import "github.com/docker/docker/client"

// Engine runs sandboxes on one Docker engine.
type Engine struct {
	cli client.APIClient
}

// New returns an Engine on cli.
func New(cli client.APIClient) *Engine { return &Engine{cli: cli} }
