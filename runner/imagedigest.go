package runner

import (
	"context"
	"fmt"
)

// ImageDigest is the content-addressed id ("sha256:…") of the image ref
// names on the engine, as recorded in a run's provenance.
func (e *Engine) ImageDigest(ctx context.Context, ref string) (string, error) {
	img, err := e.cli.ImageInspect(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("image inspect %s: %w", ref, err)
	}
	return img.ID, nil
}

// ImageLabels are the labels of the image ref names on the engine (an
// agent image records its CLI's version in one; see agents.VersionLabel).
func (e *Engine) ImageLabels(ctx context.Context, ref string) (map[string]string, error) {
	img, err := e.cli.ImageInspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("image inspect %s: %w", ref, err)
	}
	if img.Config == nil {
		return nil, nil
	}
	return img.Config.Labels, nil
}
