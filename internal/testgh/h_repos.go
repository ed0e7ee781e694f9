package testgh

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
)

// getRepo implements GET /repos/{owner}/{repo}.
func (c *call) getRepo() reply {
	m := c.s.repoJSON(c.repo, true)
	if c.user != "" {
		m["permissions"] = userPermissions(c.userRole) // the caller's, with a user token
	}
	return ok(m)
}

// legacyPermission maps a role to the permission field GitHub returns,
// which predates the maintain and triage roles.
var legacyPermission = map[string]string{
	"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none",
}

// getPermission implements GET /repos/{owner}/{repo}/collaborators/{username}/permission.
func (c *call) getPermission() reply {
	login := c.params["username"]
	role, set := c.repo.perms[strings.ToLower(login)]
	switch {
	case strings.EqualFold(login, c.repo.repo.Owner) && !set:
		role = "admin"
	case !set && c.repo.repo.Private:
		role = "none"
	case !set:
		role = "read"
	}
	user := c.s.userJSON(login)
	user["role_name"] = role
	return ok(map[string]any{"permission": legacyPermission[role], "role_name": role, "user": user})
}

// blobSHA is git's object id of a blob with data.
func blobSHA(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// getContent implements GET /repos/{owner}/{repo}/contents/{path} for files
// added with AddFile.
func (c *call) getContent() reply {
	p := strings.Trim(c.params["path"], "/")
	data, found := c.repo.files[p]
	if !found {
		return notFound()
	}
	return ok(c.s.contentJSON(c.repo, p, data, blobSHA(data)))
}
