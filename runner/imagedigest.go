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
