package alfa_test

import "hostdeck/core/secret"

func secretHasher() secret.Hasher { return secret.Hasher{Params: secret.TestParams} }
