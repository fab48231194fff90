// Package secret holds the small cryptographic helpers hostdeck needs: argon2id
// password hashes in the PHC string format, random passwords and tokens, and a
// sealed box (AES-256-GCM) for secrets that must be recovered later, such as an
// owner password that is e-mailed again.
//
// It depends only on the standard library, golang.org/x/crypto and
// golang.org/x/sync (the limit on the memory of hashes computed at once), so
// core may import it.
package secret
