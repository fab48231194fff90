package secret_test

import (
	"hostdeck/core"
	"hostdeck/core/secret"
)

// The helpers are what core's service asks for.
var (
	_ core.Hasher = secret.Hasher{}
	_ core.Sealer = (*secret.Box)(nil)
)
